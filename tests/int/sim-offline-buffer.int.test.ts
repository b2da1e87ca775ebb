import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimCharger } from "../../firmware-sim/sim-charger.ts";
import { createGatewayHarness, type GatewayHarness } from "../support/gateway-harness.ts";
import { waitFor } from "../support/wait.ts";

type Up = { type: string; payload: Record<string, unknown> };
const upEvents = (h: GatewayHarness, cpId: string): Up[] =>
  h.events.map((r) => JSON.parse(r.value)).filter((e) => e.kind === "up" && e.cpId === cpId);

describe("firmware-sim over real MQTT: buffering and retransmission across outages", () => {
  let h: GatewayHarness;
  const chargers: SimCharger[] = [];

  beforeAll(async () => {
    h = await createGatewayHarness();
  });
  afterAll(async () => {
    await Promise.all(chargers.map((c) => c.stop()));
    await h?.close();
  });

  async function connected(cpId: string, options: Partial<ConstructorParameters<typeof SimCharger>[0]> = {}): Promise<SimCharger> {
    const password = await h.addCharger(cpId);
    const c = new SimCharger({ url: h.url, cpId, password, heartbeatMs: 60_000, meterMs: 100, reconnectMs: 100, ...options });
    chargers.push(c);
    await c.start();
    return c;
  }

  it("keeps QoS 1 messages produced while offline and delivers them in order on reconnect", async () => {
    const c = await connected("buf-cp-1");
    await waitFor(() => upEvents(h, "buf-cp-1").some((e) => e.type === "status"), { what: "first status" });
    expect(c.goOffline(800)).toBe(true);
    c.beginSession("res-offline");
    c.send("heartbeat", {});
    c.stopCharging("local");
    const buffered = c.stats().buffer.size;
    expect(buffered).toBeGreaterThanOrEqual(4); // started, status, stopped, status; the heartbeat is not kept
    expect(c.stats().buffer.skipped).toBe(1);
    expect(upEvents(h, "buf-cp-1").some((e) => e.type === "charging_started")).toBe(false);

    await waitFor(() => upEvents(h, "buf-cp-1").some((e) => e.type === "charging_stopped"), { timeoutMs: 10_000, what: "buffered messages after reconnect" });
    const types = upEvents(h, "buf-cp-1").map((e) => e.type);
    expect(types.indexOf("charging_started")).toBeLessThan(types.indexOf("charging_stopped"));
    const started = upEvents(h, "buf-cp-1").find((e) => e.type === "charging_started")!;
    expect(started.payload.reservationId).toBe("res-offline");
    await waitFor(() => c.stats().acked === c.stats().produced, { what: "every kept message acknowledged" });
    expect(c.stats().connects).toBe(2);
  });

  it("evicts meter values, not transactions, when an outage outlasts the buffer", async () => {
    const c = await connected("buf-cp-2", { bufferSize: 5, meterMs: 50 });
    expect(c.goOffline(1_500)).toBe(true);
    c.beginSession("res-long");
    await waitFor(() => (c.stats().buffer.dropped.meter ?? 0) > 3, { what: "meter values evicted" });
    c.stopCharging("local");
    await waitFor(() => upEvents(h, "buf-cp-2").some((e) => e.type === "charging_stopped"), { timeoutMs: 10_000, what: "stop after reconnect" });
    expect(upEvents(h, "buf-cp-2").some((e) => e.type === "charging_started" && e.payload.reservationId === "res-long")).toBe(true);
  });

  it("receives a command sent while it was offline (persistent session) and answers it", async () => {
    const c = await connected("buf-cp-3");
    expect(c.goOffline(600)).toBe(true);
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const commandId = await h.sendCommand("buf-cp-3", "reserve", { reservationId: "res-queued", expiresAt });
    await waitFor(() => c.received.some((m) => m.payload.id === commandId), { timeoutMs: 10_000, what: "queued command delivered" });
    expect(c.status).toBe("reserved");
    await waitFor(() => upEvents(h, "buf-cp-3").some((e) => e.type === "command_result" && e.payload.commandId === commandId), { what: "command_result" });
    await waitFor(() => c.firmware.commands.get(commandId)?.acked, { what: "command_result acknowledged" });
  });
});

describe("firmware-sim over real MQTT: a message whose PUBACK was lost is retransmitted", () => {
  let server: Server;
  let broker: Aedes;
  let observer: MqttClient;
  let url: string;
  const seen: string[] = [];
  let withhold = false;
  const withheld: unknown[] = [];

  beforeAll(async () => {
    // A broker that can sit on a publish without acknowledging it, as a gateway does while its disk is stuck.
    broker = await Aedes.createBroker({
      authorizePublish: (_client, packet, done) => {
        if (withhold && packet.topic.endsWith("/up/meter")) return void withheld.push(done);
        done(null);
      },
    });
    server = createServer(broker.handle as (socket: import("node:net").Socket) => void);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
    observer = mqtt.connect(url, { clientId: "observer", protocolVersion: 4 });
    await new Promise<void>((resolve) => observer.once("connect", () => resolve()));
    await observer.subscribeAsync("chargebridge/v1/+/up/#", { qos: 1 });
    observer.on("message", (_topic, payload) => seen.push(JSON.parse(payload.toString()).id));
  });
  afterAll(async () => {
    observer?.end(true);
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("re-sends it from mqtt.js's outgoing store after the reconnect", async () => {
    const c = new SimCharger({ url, cpId: "inflight-cp", password: "any", reconnectMs: 100, heartbeatMs: 60_000 });
    await c.start();
    withhold = true;
    const id = c.send("meter", { reservationId: "r-1", energyWh: 10, powerW: 1_000 });
    await waitFor(() => withheld.length === 1, { what: "the broker holding the publish" });
    const ackedBefore = c.stats().acked;
    expect(c.goOffline(200)).toBe(true);
    withhold = false;
    await waitFor(() => seen.includes(id), { timeoutMs: 10_000, what: "retransmitted meter value" });
    await waitFor(() => c.stats().acked > ackedBefore, { what: "PUBACK for the retransmission" });
    expect(c.stats().buffer.size).toBe(0);
    await c.stop();
  });
});
