import { RPCClient } from "ocpp-rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OcppCharger } from "../../firmware-sim/ocpp/ocpp-charger.ts";
import { OCPP_OPERATOR, OcppRig } from "../support/ocpp-rig.ts";
import { runSimCli } from "../support/sim-cli.ts";
import { waitFor } from "../support/wait.ts";

/**
 * OCPP 1.6J charge boxes (firmware-sim's, ocpp-rpc in strict mode, so every call the gateway
 * sends is checked against the OCA schemas) against a real gateway and Central over a real
 * WebSocket, Kafka and PostgreSQL, driven through the REST API only.
 */
const TTL_SECONDS = 6;

describe("OCPP 1.6J end to end", { timeout: 300_000 }, () => {
  const rig = new OcppRig();
  const boxes: OcppCharger[] = [];
  const box = (cpId: string, password: string, connectors = 1) => {
    const b = new OcppCharger({ url: rig.ocppUrl, cpId, password, connectors, meterMs: 300, reconnectMs: 200, reconnectMaxMs: 1_000, ev: { batteryWh: 1e6 }, authGraceMs: 30_000 });
    boxes.push(b);
    return b;
  };
  const online = (cpId: string) => waitFor(async () => (await rig.api("GET", `/v1/charge-points/${cpId}`, "ocpp-e2e-operator-token-0123456789")).body?.online === true, { timeoutMs: 60_000, what: `${cpId} online` });

  beforeAll(async () => {
    await rig.up(TTL_SECONDS);
  }, 300_000);
  afterAll(async () => {
    await Promise.all(boxes.map((b) => b.stop()));
    await rig.close();
  }, 60_000);

  it("boot → ReserveNow → RemoteStartTransaction → MeterValues → RemoteStopTransaction: a completed session with the charger's energy", async () => {
    const { "ocpp-a": secret } = await rig.provision("ocpp-a");
    const b = box("ocpp-a", secret!);
    await b.start();
    expect(b.boot?.interval).toBe(5);
    await online("ocpp-a");
    const token = await rig.driver();
    const reserved = await rig.api("POST", "/v1/reservations", token, { cpId: "ocpp-a" });
    expect(reserved.status).toBe(201);
    const rid = reserved.body.reservationId as string;
    const c = b.connectors[0]!;
    await waitFor(() => c.status === "reserved", { timeoutMs: 30_000, what: "ReserveNow applied" });
    const reserveNow = b.commandLog.find((e) => e.action === "ReserveNow")!;
    expect(reserveNow.params).toMatchObject({ connectorId: 1, reservationId: expect.any(Number), idTag: expect.any(String) });
    expect((await rig.api("POST", `/v1/reservations/${rid}/start`, token)).status).toBe(202);
    await waitFor(async () => (await rig.reservation(rid, token)).status === "charging", { timeoutMs: 30_000, what: "charging" });
    const start = b.commandLog.find((e) => e.action === "RemoteStartTransaction")!;
    expect(start.params).toMatchObject({ connectorId: 1, idTag: reserveNow.params.idTag });
    expect(c.transactions[0]).toMatchObject({ reservationId: reserveNow.params.reservationId, transactionId: expect.any(Number) });
    // Stop only once the charger has metered energy, so the session's energy is a real difference.
    await waitFor(() => b.outboxStats().acked >= 6 && Math.round(c.firmware.meterWh) > c.firmware.sessions[0]!.meterStartWh, { what: "a few meter values answered, energy metered" });
    expect((await rig.api("POST", `/v1/reservations/${rid}/stop`, token)).status).toBe(202);
    await waitFor(async () => (await rig.reservation(rid, token)).status === "completed", { timeoutMs: 30_000, what: "completed" });
    const stop = b.commandLog.find((e) => e.action === "RemoteStopTransaction")!;
    expect(stop.params.transactionId).toBe(c.transactions[0]!.transactionId);
    const [session] = (await rig.api("GET", "/v1/sessions", token)).body as { energyWh: number; stoppedAt: string }[];
    const log = c.firmware.sessions[0]!;
    expect(session!.stoppedAt).toBeTruthy();
    expect(session!.energyWh).toBe(log.meterStopWh! - log.meterStartWh);
    expect(session!.energyWh).toBeGreaterThan(0);
    console.log(`OCPP session: ${session!.energyWh} Wh, transactionId ${c.transactions[0]!.transactionId}`);
  });

  it("a reservation that times out is expired by Central and CancelReservation reaches the charger", async () => {
    const { "ocpp-b": secret } = await rig.provision("ocpp-b");
    const b = box("ocpp-b", secret!);
    await b.start();
    await online("ocpp-b");
    const token = await rig.driver();
    const rid = (await rig.api("POST", "/v1/reservations", token, { cpId: "ocpp-b" })).body.reservationId as string;
    await waitFor(() => b.commandLog.some((e) => e.action === "ReserveNow"), { timeoutMs: 30_000, what: "ReserveNow" });
    const ocppId = b.commandLog.find((e) => e.action === "ReserveNow")!.params.reservationId;
    await waitFor(async () => (await rig.reservation(rid, token)).status === "expired", { timeoutMs: (TTL_SECONDS + 30) * 1000, what: "expired" });
    const cancel = await waitFor(() => b.commandLog.find((e) => e.action === "CancelReservation"), { timeoutMs: 30_000, what: "CancelReservation at the charger" });
    expect(cancel.params.reservationId).toBe(ocppId);
    expect(cancel.answer).toEqual({ status: "Accepted" });
    expect(b.connectors[0]!.status).toBe("available");
    await waitFor(async () => (await rig.api("GET", "/v1/charge-points/ocpp-b", "ocpp-e2e-operator-token-0123456789")).body.status === "available", { timeoutMs: 30_000, what: "charge point available" });
  });

  it("a two-connector box charges on both connectors at once, as charge points X and X-2", async () => {
    const secrets = await rig.provision("ocpp-duo", "ocpp-duo-2");
    const b = box("ocpp-duo", secrets["ocpp-duo"]!, 2);
    await b.start();
    await online("ocpp-duo");
    await online("ocpp-duo-2");
    const [t1, t2] = [await rig.driver("one"), await rig.driver("two")];
    const r1 = (await rig.api("POST", "/v1/reservations", t1, { cpId: "ocpp-duo" })).body.reservationId as string;
    const r2 = (await rig.api("POST", "/v1/reservations", t2, { cpId: "ocpp-duo-2" })).body.reservationId as string;
    await waitFor(() => b.connectors.every((c) => c.status === "reserved"), { timeoutMs: 30_000, what: "both reserved" });
    await rig.api("POST", `/v1/reservations/${r1}/start`, t1);
    await rig.api("POST", `/v1/reservations/${r2}/start`, t2);
    await waitFor(async () => (await rig.reservation(r1, t1)).status === "charging" && (await rig.reservation(r2, t2)).status === "charging", { timeoutMs: 30_000, what: "both charging" });
    expect(b.connectors.map((c) => c.status)).toEqual(["charging", "charging"]);
    const [tx1, tx2] = b.connectors.map((c) => c.transactions[0]!.transactionId);
    expect(tx1).not.toBe(tx2);
    await rig.api("POST", `/v1/reservations/${r1}/stop`, t1);
    await rig.api("POST", `/v1/reservations/${r2}/stop`, t2);
    for (const [i, [rid, t]] of [[r1, t1], [r2, t2]].entries()) {
      await waitFor(async () => (await rig.reservation(rid!, t!)).status === "completed", { timeoutMs: 30_000, what: `connector ${i + 1} completed` });
      const [s] = (await rig.api("GET", "/v1/sessions", t)).body as { cpId: string; energyWh: number }[];
      const log = b.connectors[i]!.firmware.sessions[0]!;
      expect(s).toMatchObject({ cpId: b.connectors[i]!.cpId, energyWh: log.meterStopWh! - log.meterStartWh });
    }
  });

  it("refuses a wrong password with HTTP 401", async () => {
    await rig.provision("ocpp-locked");
    const client = (password: string) => new RPCClient({ endpoint: rig.ocppUrl, identity: "ocpp-locked", password, protocols: ["ocpp1.6"], reconnect: false } as unknown as ConstructorParameters<typeof RPCClient>[0]);
    const status = await client("not-the-secret").connect().then(() => 0, (e: { code?: number }) => e.code ?? -1);
    expect(status).toBe(401);
  });

  it("answers a schema-invalid call with a CALLERROR and keeps serving the connection", async () => {
    const { "ocpp-bad": secret } = await rig.provision("ocpp-bad");
    // A raw client without strict mode: the point is to send what strict mode would refuse.
    const raw = new RPCClient({ endpoint: rig.ocppUrl, identity: "ocpp-bad", password: secret!, protocols: ["ocpp1.6"], reconnect: false } as unknown as ConstructorParameters<typeof RPCClient>[0]);
    await waitFor(() => raw.connect().then(() => true, () => false), { timeoutMs: 30_000, what: "admitted" });
    try {
      await raw.call("BootNotification", { chargePointVendor: "raw", chargePointModel: "raw" });
      const error = await raw.call("StatusNotification", { connectorId: "one", errorCode: "NoError", status: "Available" }).then(() => null, (e: { rpcErrorCode?: string }) => e);
      expect(error?.rpcErrorCode).toBe("TypeConstraintViolation");
      const missing = await raw.call("StatusNotification", { connectorId: 1, status: "Available" }).then(() => null, (e: { rpcErrorCode?: string }) => e);
      expect(missing?.rpcErrorCode).toBe("OccurrenceConstraintViolation");
      const unknown = await raw.call("FlyToTheMoon", {}).then(() => null, (e: { rpcErrorCode?: string }) => e);
      expect(unknown?.rpcErrorCode).toBe("NotImplemented");
      expect(await raw.call("Heartbeat", {})).toMatchObject({ currentTime: expect.any(String) });
    } finally {
      await raw.close({ force: true });
    }
  });

  it("runs an existing scenario with OCPP chargers through the CLI, HIL invariants holding", async () => {
    const credentials = `${rig.dataDir}/sim-credentials.json`;
    const run = await runSimCli(
      ["--protocol", "ocpp1.6", "--url", rig.ocppUrl, "--api", rig.apiUrl, "--token", OCPP_OPERATOR, "--count", "3", "--prefix", "ocpp-scn",
        "--scenario", "firmware-sim/scenarios/quiet-night.yaml", "--duration", "20", "--seed", "7", "--credentials", credentials],
      240_000,
    );
    console.log(run.stdout);
    expect(run.stderr).not.toMatch(/firmware-sim: /);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/energy_matches_meter/);
  });
});
