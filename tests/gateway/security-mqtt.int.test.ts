import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TOPICS } from "../../protocol/index.ts";
import { createGatewayHarness, type GatewayHarness } from "../support/gateway-harness.ts";
import { waitFor } from "../support/wait.ts";

const up = (cpId: string, type: string) => `chargebridge/v1/${cpId}/up/${type}`;
const payload = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({ id, ts: new Date().toISOString(), ...extra });

async function metric(h: GatewayHarness, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${h.gateway.httpPort()}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith("#"));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** The CONNACK return code a refused connection got (mqtt.js puts it on the error as `code`). */
async function refusalCode(attempt: Promise<unknown>): Promise<number | undefined> {
  return attempt.then(
    () => undefined,
    (e: { code?: number }) => e.code,
  );
}

const presenceOf = (h: GatewayHarness, cpId: string) =>
  h.events.map((r) => JSON.parse(r.value)).filter((e) => e.kind === "presence" && e.cpId === cpId).map((e) => e.online as boolean);

describe("session takeover (MQTT-3.1.4-2) needs the right secret", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await createGatewayHarness();
  });
  afterAll(async () => h?.close());

  it("refuses a second connection with the wrong secret and leaves the live one alone", async () => {
    const secret = await h.addCharger("cp-t1");
    const first = await h.connect("cp-t1", secret);
    expect(await refusalCode(h.connect("cp-t1", "not-the-secret"))).toBe(4);
    expect(first.connected).toBe(true);
    await first.publishAsync(up("cp-t1", "heartbeat"), payload("t1-after"), { qos: 1 });
    await waitFor(() => h.events.some((r) => r.value.includes('"t1-after"')), { what: "heartbeat from the original connection" });
    expect(await metric(h, "chargebridge_gateway_session_takeovers_total")).toBe(0);
    expect(presenceOf(h, "cp-t1")).toEqual([true]);
    first.end(true);
  });

  it("lets the right secret take over: the old connection is closed, counted, and presence stays online", async () => {
    const secret = await h.addCharger("cp-t2");
    const first = await h.connect("cp-t2", secret);
    await waitFor(() => presenceOf(h, "cp-t2").length === 1, { what: "first online" });
    const firstClosed = new Promise<void>((resolve) => first.once("close", () => resolve()));
    const second = await h.connect("cp-t2", secret);
    await firstClosed;
    expect(second.connected).toBe(true);
    await waitFor(async () => (await metric(h, "chargebridge_gateway_session_takeovers_total")) === 1, { what: "takeover counted" });
    await second.publishAsync(up("cp-t2", "heartbeat"), payload("t2-new"), { qos: 1 });
    await waitFor(() => h.events.some((r) => r.value.includes('"t2-new"')), { what: "heartbeat from the new connection" });
    // The charger never went offline: no offline event between the two onlines.
    expect(presenceOf(h, "cp-t2")).toEqual([true, true]);
    await second.endAsync();
    await waitFor(() => presenceOf(h, "cp-t2").at(-1) === false, { what: "offline after the real disconnect" });
  });
});

describe("connection rate limits", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await createGatewayHarness({ MQTT_CONNECT_RATE_PER_MINUTE: "4", MQTT_AUTH_FAILURES_PER_MINUTE: "2" });
  });
  afterAll(async () => h?.close());

  it("throttles failed secrets per cpId with CONNACK 3, but still admits a secret this gateway verified before", async () => {
    const knownSecret = await h.addCharger("cp-known");
    const fresh = await h.addCharger("cp-fresh");
    (await h.connect("cp-known", knownSecret)).end(true); // attempt 1 from this address
    expect(await refusalCode(h.connect("cp-fresh", "guess-1"))).toBe(4); // 2
    expect(await refusalCode(h.connect("cp-fresh", "guess-2"))).toBe(4); // 3
    // cp-fresh has used up its failures: even the right secret waits, and no slow hash is spent
    expect(await refusalCode(h.connect("cp-fresh", fresh))).toBe(3); // 4
    expect(await metric(h, "chargebridge_gateway_refused_total", 'what="connect_rate_limited"')).toBe(1);
  });

  it("throttles connection attempts per source address with CONNACK 3", async () => {
    // The address has used its 4 attempts above; the next one is refused whatever it carries.
    const secret = await h.addCharger("cp-addr");
    expect(await refusalCode(h.connect("cp-addr", secret))).toBe(3);
    expect(await metric(h, "chargebridge_gateway_refused_total", 'what="connect_rate_limited"')).toBe(2);
  });
});

describe("remembered secrets survive a per-cpId throttle", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await createGatewayHarness({ MQTT_AUTH_FAILURES_PER_MINUTE: "2" });
  });
  afterAll(async () => h?.close());

  it("keeps the real charger connectable while someone hammers its cpId with wrong secrets", async () => {
    const secret = await h.addCharger("cp-real");
    (await h.connect("cp-real", secret)).end(true);
    for (const guess of ["a", "b", "c", "d"]) expect(await refusalCode(h.connect("cp-real", guess))).toBeGreaterThanOrEqual(3);
    expect(await refusalCode(h.connect("cp-real", "e"))).toBe(3);
    const again = await h.connect("cp-real", secret);
    expect(again.connected).toBe(true);
    again.end(true);
  });
});

describe("MQTT packet and payload size limits", () => {
  let h: GatewayHarness;
  let secret: string;
  beforeAll(async () => {
    h = await createGatewayHarness({ MAX_PAYLOAD_BYTES: "1024", MQTT_MAX_PACKET_BYTES: "8192" });
    secret = await h.addCharger("cp-big");
  });
  afterAll(async () => h?.close());

  it("acknowledges and dead-letters a payload over MAX_PAYLOAD_BYTES without disconnecting", async () => {
    const c = await h.connect("cp-big", secret);
    await c.publishAsync(up("cp-big", "heartbeat"), payload("big-1", { pad: "x".repeat(2000) }), { qos: 1 });
    await waitFor(() => h.deadLetters.some((r) => JSON.parse(r.value).reason === "payload exceeds 1024 bytes"), { what: "dead letter" });
    expect(c.connected).toBe(true);
    c.end(true);
  });

  it("closes a connection whose packet is over MQTT_MAX_PACKET_BYTES, and forwards nothing of it", async () => {
    const c = await h.connect("cp-big", secret);
    const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
    c.publish(up("cp-big", "heartbeat"), payload("huge-1", { pad: "x".repeat(50_000) }), { qos: 1 });
    await closed;
    expect(await metric(h, "chargebridge_gateway_refused_total", 'what="packet_too_large"')).toBe(1);
    expect(h.events.some((r) => r.value.includes("huge-1")) || h.deadLetters.some((r) => r.value.includes("huge-1"))).toBe(false);
    c.end(true);
  });

  it("drops an unauthenticated socket as soon as its header declares a 256 MiB packet", async () => {
    const port = h.gateway.mqttPort();
    const socket = tcpConnect(port, "127.0.0.1");
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {});
    // CONNECT with Remaining Length 268,435,455 (0xff 0xff 0xff 0x7f, §2.2.3), then a trickle:
    // the gateway must not wait for (or buffer) the rest.
    socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x04]));
    await closed;
    expect(await metric(h, "chargebridge_gateway_refused_total", 'what="packet_too_large"')).toBe(2);
    // The broker is unaffected.
    const c = await h.connect("cp-big", secret);
    await c.publishAsync(up("cp-big", "heartbeat"), payload("after-huge"), { qos: 1 });
    await waitFor(() => h.events.some((r) => r.value.includes('"after-huge"')), { what: "good message after the huge one" });
    c.end(true);
  });
});

describe("a cap on open MQTT connections", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await createGatewayHarness({ MQTT_MAX_CONNECTIONS: "3", MQTT_CONNECT_RATE_PER_MINUTE: "0" });
  });
  afterAll(async () => h?.close());

  /** A raw TCP socket that never sends CONNECT: what a flood of idle sockets looks like. */
  function idleSocket(): Promise<{ closed: Promise<void>; end(): void }> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect(h.gateway.mqttPort(), "127.0.0.1");
      const closed = new Promise<void>((r) => socket.once("close", () => r()));
      socket.once("error", () => {});
      socket.once("connect", () => resolve({ closed, end: () => socket.destroy() }));
      setTimeout(() => reject(new Error("TCP connect timed out")), 5_000);
    });
  }

  it("closes connections beyond MQTT_MAX_CONNECTIONS at once, counts them, and serves again when one leaves", async () => {
    const secret = await h.addCharger("cp-cap");
    const secret2 = await h.addCharger("cp-cap-2");
    const idle = [await idleSocket(), await idleSocket()];
    const charger = await h.connect("cp-cap", secret);
    // the fourth connection is closed before it can send anything
    const extra = await idleSocket();
    await extra.closed;
    expect(await metric(h, "chargebridge_gateway_refused_total", 'what="connection_limit"')).toBe(1);
    // the charger inside the cap is unaffected
    await charger.publishAsync(up("cp-cap", "heartbeat"), payload("cap-inside"), { qos: 1 });
    await waitFor(() => h.events.some((r) => r.value.includes('"cap-inside"')), { what: "heartbeat inside the cap" });
    // one idle socket leaves: a charger gets in again
    idle[0]!.end();
    await idle[0]!.closed;
    // (the gateway may see that close a moment after this side does, hence the retry)
    const second = await waitFor(() => h.connect("cp-cap-2", secret2).catch(() => undefined), { what: "a charger accepted again" });
    expect(second.connected).toBe(true);
    idle[1]!.end();
    second.end(true);
    charger.end(true);
  });
});

describe("revoked charger credentials", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await createGatewayHarness();
  });
  afterAll(async () => h?.close());

  it("closes the revoked charger's live connection, refuses it from then on, and leaves others alone", async () => {
    const secret = await h.addCharger("cp-rv1");
    const otherSecret = await h.addCharger("cp-rv2");
    const revokedClient = await h.connect("cp-rv1", secret);
    const other = await h.connect("cp-rv2", otherSecret);
    const closed = new Promise<void>((resolve) => revokedClient.once("close", () => resolve()));
    await h.bus.publish(DEFAULT_TOPICS.credentials, [
      { key: "cp-rv1", value: JSON.stringify({ cpId: "cp-rv1", hash: null, updatedAt: new Date().toISOString() }) },
    ]);
    await closed;
    expect(await metric(h, "chargebridge_gateway_refused_total", 'what="revoked"')).toBe(1);
    expect(await refusalCode(h.connect("cp-rv1", secret))).toBeGreaterThan(0);
    await other.publishAsync(up("cp-rv2", "heartbeat"), payload("rv2-still-here"), { qos: 1 });
    await waitFor(() => h.events.some((r) => r.value.includes('"rv2-still-here"')), { what: "the other charger's heartbeat" });
    other.end(true);
  });
});
