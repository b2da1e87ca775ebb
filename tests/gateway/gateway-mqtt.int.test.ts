import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayHarness, type GatewayHarness } from "../support/gateway-harness.ts";
import { waitFor } from "../support/wait.ts";

const up = (cpId: string, type: string) => `chargebridge/v1/${cpId}/up/${type}`;
const payload = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({ id, ts: new Date().toISOString(), ...extra });

describe("gateway over real MQTT (TCP)", () => {
  let h: GatewayHarness;
  let secret: string;

  beforeAll(async () => {
    h = await createGatewayHarness();
    secret = await h.addCharger("cp-a");
    await h.addCharger("cp-b");
  });
  afterAll(async () => h?.close());

  it("refuses a connection with the wrong secret (CONNACK 4)", async () => {
    await expect(h.connect("cp-a", "wrong")).rejects.toThrow(/Bad username or password|Connection refused|closed/i);
    await expect(h.connect("cp-zzz", "whatever")).rejects.toThrow();
  });

  it("acknowledges a valid message and hands it to the bus with the charger's message id", async () => {
    const c = await h.connect("cp-a", secret);
    await c.publishAsync(up("cp-a", "heartbeat"), payload("hb-1"), { qos: 1 });
    const rec = await waitFor(() => h.events.find((r) => r.value.includes('"hb-1"')), { what: "heartbeat on the bus" });
    expect(rec.key).toBe("cp-a");
    // transport: set by the gateway on the envelope, not by the charger (issue 13)
    expect(JSON.parse(rec.value)).toMatchObject({ kind: "up", cpId: "cp-a", type: "heartbeat", payload: { id: "hb-1" }, transport: "mqtt" });
    c.end(true);
  });

  it("reports presence online and offline through the same ordered stream", async () => {
    const c = await h.connect("cp-b", "secret-cp-b");
    await waitFor(() => h.events.some((r) => r.key === "cp-b" && r.value.includes('"online":true')), { what: "online" });
    await c.endAsync();
    await waitFor(() => h.events.some((r) => r.key === "cp-b" && r.value.includes('"online":false')), { what: "offline" });
  });

  it("dead-letters a malformed message without disconnecting, and delivers the good ones around it", async () => {
    const c = await h.connect("cp-a", secret);
    await c.publishAsync(up("cp-a", "heartbeat"), payload("before"), { qos: 1 });
    await c.publishAsync(up("cp-a", "meter"), "{not json", { qos: 1 });
    await c.publishAsync(up("cp-a", "meter"), payload("m-bad", { reservationId: "r1", energyWh: "lots", powerW: 1 }), { qos: 1 });
    await c.publishAsync(up("cp-a", "no_such_type"), payload("m-unknown"), { qos: 1 });
    await c.publishAsync(up("cp-a", "heartbeat"), payload("after"), { qos: 1 });
    await waitFor(() => h.events.some((r) => r.value.includes('"after"')), { what: "good message after bad ones" });
    expect(h.events.some((r) => r.value.includes('"before"'))).toBe(true);
    await waitFor(() => h.deadLetters.length >= 3, { what: "3 dead letters" });
    const reasons = h.deadLetters.map((r) => JSON.parse(r.value).reason as string);
    expect(reasons).toContain("payload is not valid JSON");
    expect(reasons.some((r) => r.startsWith("payload.energyWh"))).toBe(true);
    expect(reasons.some((r) => r.includes("unknown upstream type"))).toBe(true);
    expect(c.connected).toBe(true);
    c.end(true);
  });

  it("disconnects a charger that publishes on another charger's topic, and forwards nothing", async () => {
    const c = await h.connect("cp-a", secret);
    const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
    c.publish(up("cp-b", "heartbeat"), payload("spoof-1"), { qos: 1 });
    await closed;
    expect(h.events.some((r) => r.value.includes("spoof-1"))).toBe(false);
    c.end(true);
  });

  it("refuses wildcard and foreign subscriptions with SUBACK 0x80 and grants its own", async () => {
    const c = await h.connect("cp-a", secret, { clean: true });
    // mqtt.js turns a 0x80 return code into an error that carries the SUBACK packet
    const grantedCode = (topic: string) =>
      c.subscribeAsync(topic, { qos: 1 }).then(
        (g) => g[0]?.qos,
        (e: { packet?: { granted?: number[] } }) => e.packet?.granted?.[0],
      );
    expect(await grantedCode("#")).toBe(128);
    expect(await grantedCode("chargebridge/v1/+/down/#")).toBe(128);
    expect(await grantedCode("chargebridge/v1/cp-b/down/#")).toBe(128);
    expect(await grantedCode("chargebridge/v1/cp-a/down/#")).toBe(1);
    expect(c.connected).toBe(true);
    c.end(true);
  });

  it("delivers a command to the charger's session over QoS 1, also after the charger was offline", async () => {
    const c = await h.connect("cp-a", secret, { clean: false });
    await c.subscribeAsync("chargebridge/v1/cp-a/down/#", { qos: 1 });
    const got: { topic: string; body: any }[] = [];
    c.on("message", (topic, buf) => got.push({ topic, body: JSON.parse(buf.toString()) }));
    const id1 = await h.sendCommand("cp-a", "reserve", { reservationId: "res-1", expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await waitFor(() => got.find((g) => g.body.id === id1), { what: "reserve command" });
    expect(got[0]!.topic).toBe("chargebridge/v1/cp-a/down/reserve");
    await c.endAsync();

    const id2 = await h.sendCommand("cp-a", "cancel_reservation", { reservationId: "res-1" });
    await waitFor(() => h.gateway.queue.stats().depth === 0, { what: "queue drained" });
    const later: any[] = [];
    const again = await h.connect("cp-a", secret, { clean: false }, (_t, body) => later.push(body));
    await waitFor(() => later.find((m) => m.id === id2), { what: "command queued while offline" });
    again.end(true);
  });
});
