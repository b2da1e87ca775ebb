import { afterAll, describe, expect, it } from "vitest";
import { OcppCharger } from "../../firmware-sim/ocpp/ocpp-charger.ts";
import { killKafka, restartKafka } from "../support/kafka.ts";
import { HoldingRelay, OCPP_OPERATOR, OcppRig } from "../support/ocpp-rig.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The OCPP charger gets MQTT's guarantees: a CALLRESULT only once the event is on the gateway's
 * disk, whatever Kafka does, and a StartTransaction whose answer was lost in a gateway crash is
 * sent again and counted once. Real Kafka and a real gateway process, both SIGKILLed.
 */
describe("OCPP 1.6J under faults", { timeout: 400_000 }, () => {
  const rig = new OcppRig();
  const relay = new HoldingRelay(() => rig.ocppPort);
  const boxes: OcppCharger[] = [];
  afterAll(async () => {
    await Promise.all(boxes.map((b) => b.stop()));
    await relay.close();
    await rig.close();
  }, 60_000);

  async function reservedBox(cpId: string, url: () => string) {
    const { [cpId]: secret } = await rig.provision(cpId);
    const b = new OcppCharger({ url: url(), cpId, password: secret!, meterMs: 300, reconnectMs: 200, reconnectMaxMs: 1_000, ev: { batteryWh: 1e6 }, authGraceMs: 30_000, callTimeoutMs: 5_000 });
    boxes.push(b);
    await b.start();
    await waitFor(async () => (await rig.api("GET", `/v1/charge-points/${cpId}`, OCPP_OPERATOR)).body?.online === true, { timeoutMs: 60_000, what: `${cpId} online` });
    const token = await rig.driver();
    const rid = (await rig.api("POST", "/v1/reservations", token, { cpId })).body.reservationId as string;
    await waitFor(() => b.connectors[0]!.status === "reserved", { timeoutMs: 30_000, what: "ReserveNow applied" });
    return { b, token, rid };
  }

  it("Kafka SIGKILLed while the charger sends StartTransaction: the CALLRESULT comes from disk; Central ends charging when Kafka returns", async () => {
    await rig.up(120);
    await relay.start();
    const { b, token, rid } = await reservedBox("ocpp-k", () => rig.ocppUrl);
    // Central's start goes out while Kafka is up; Kafka dies before the charger's answer travels on.
    const before = b.outboxStats().acked;
    expect((await rig.api("POST", `/v1/reservations/${rid}/start`, token)).status).toBe(202);
    await waitFor(() => b.commandLog.some((e) => e.action === "RemoteStartTransaction"), { timeoutMs: 30_000, what: "RemoteStartTransaction" });
    await killKafka(rig.kafka);
    const tx = await waitFor(() => (b.connectors[0]!.transactions[0]?.transactionId != null ? b.connectors[0]!.transactions[0] : null), { timeoutMs: 30_000, what: "StartTransaction answered with Kafka down" });
    expect(b.outboxStats().acked).toBeGreaterThan(before);
    // The StartTransaction may have reached Kafka just before the kill took effect; the meter values
    // that follow (every 300 ms) are answered from disk and wait in the queue for Kafka.
    await waitFor(async () => (await rig.gatewayHealth()).queue.depth >= 1, { timeoutMs: 30_000, what: "answers queued on disk while Kafka is down" });
    const startedAt = Date.now();
    await restartKafka(rig.kafka);
    await waitFor(async () => (await rig.reservation(rid, token)).status === "charging", { timeoutMs: 120_000, what: "charging after Kafka returned" });
    console.log(`Central saw charging ${Date.now() - startedAt} ms after Kafka was restarted; transactionId ${tx.transactionId}`);
  });

  it("the gateway SIGKILLed between StartTransaction and its CALLRESULT: the charger retries; one transaction, not lost, not doubled", async () => {
    const { b, token, rid } = await reservedBox("ocpp-g", () => relay.url);
    // Hold the gateway's bytes as soon as the charger sends StartTransaction: the call reaches
    // the gateway (and its disk), its answer never reaches the charger.
    const client = (b as unknown as { client: { on(e: string, f: (x: { outbound: boolean; payload: unknown[] }) => void): void } }).client;
    let sent = 0;
    client.on("call", (c) => {
      if (c.outbound && c.payload[2] === "StartTransaction" && ++sent === 1) relay.holding = true;
    });
    await rig.api("POST", `/v1/reservations/${rid}/start`, token);
    await waitFor(() => sent === 1, { timeoutMs: 30_000, what: "StartTransaction sent" });
    await waitFor(async () => (await rig.reservation(rid, token)).status === "charging", { timeoutMs: 60_000, what: "the start on disk and at Central" });
    expect(b.connectors[0]!.transactions[0]!.transactionId).toBeNull(); // the charger never got the answer
    await rig.gateway!.kill();
    relay.holding = false;
    await rig.startOcppGateway();
    await waitFor(() => b.connectors[0]!.transactions[0]!.transactionId != null, { timeoutMs: 60_000, what: "StartTransaction retried and answered" });
    expect(sent).toBeGreaterThanOrEqual(2);
    await waitFor(() => b.outboxStats().size === 0 && b.outboxStats().acked > 3, { timeoutMs: 30_000, what: "meter values flowing" });
    await rig.api("POST", `/v1/reservations/${rid}/stop`, token);
    await waitFor(async () => (await rig.reservation(rid, token)).status === "completed", { timeoutMs: 60_000, what: "completed" });
    const sessions = (await rig.api("GET", "/v1/sessions", token)).body as { energyWh: number }[];
    expect(sessions).toHaveLength(1);
    const log = b.connectors[0]!.firmware.sessions[0]!;
    expect(sessions[0]!.energyWh).toBe(log.meterStopWh! - log.meterStartWh);
    expect(b.connectors[0]!.transactions).toHaveLength(1);
    console.log(`StartTransaction sent ${sent} times; one session of ${sessions[0]!.energyWh} Wh`);
  });
});
