import { mkdtemp, rm } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "hono/jwt";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, type ApiCall } from "../support/api-client.ts";
import { closed, connectOrThrow, counter, downFilter, GoodCharger, grantedQos, message, tryConnect, upTopic } from "../support/hostile-kit.ts";
import { embeddedEnv, startProcess, type RunningProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const OPERATOR = "operator-token-for-the-hostile-suite";
const TOKEN_SECRET = "token-secret-for-the-hostile-suite-0123456789";
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/**
 * Hostile input against the real `npm start` composition: the TCP MQTT gateway and the HTTP
 * server in a child process. Every case asserts a clear refusal, and that a well-behaved charger
 * streaming heartbeats next to it (and a well-behaved driver) is unaffected and loses nothing.
 */
describe("hostile input over real MQTT and HTTP", () => {
  let proc: RunningProcess;
  let dataDir: string;
  let api: ApiCall;
  let mqttUrl: string;
  let centralMetrics: string;
  let gatewayMetrics: string;
  const secrets: Record<string, string> = {};
  let good: GoodCharger;
  let goodDriver: string;
  const hostile: MqttClient[] = [];

  const applied = (type: string) => counter(centralMetrics, "chargebridge_central_events_applied_total", `type="${type}"`);
  const cp = async (cpId: string) => (await api("GET", `/v1/charge-points/${cpId}`, OPERATOR)).body;
  const evil = async (cpId = "cp-evil") => {
    const c = await connectOrThrow(mqttUrl, cpId, secrets[cpId]!, { clean: true });
    hostile.push(c);
    return c;
  };
  /** A valid boot whose firmware names a marker: once Central shows it, everything before it was handled. */
  const marker = async (c: MqttClient, cpId: string, name: string) => {
    await c.publishAsync(upTopic(cpId, "boot"), message(`boot-${name}`, { vendor: "v", model: "m", firmware: name }), { qos: 1 });
    await waitFor(async () => (await cp(cpId)).firmware === name, { what: `marker ${name} applied` });
  };

  /** Runs one hostile case while the good charger streams, then checks nothing of its was lost. */
  async function around(hostileCase: () => Promise<void>): Promise<void> {
    const before = good.acked;
    await hostileCase();
    await waitFor(() => good.acked >= before + 3, { what: "the good charger's stream still flowing" });
    const target = good.acked;
    await waitFor(async () => (await applied("heartbeat")) >= target, { what: `all ${target} good heartbeats applied` });
    expect(await applied("heartbeat")).toBeLessThanOrEqual(good.sent); // and nothing that is not its own
    expect(good.closes).toBe(0);
    const view = await api("GET", `/v1/charge-points/${good.cpId}`, goodDriver);
    expect(view.status).toBe(200);
    expect(view.body.online).toBe(true);
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cb-hostile-"));
    proc = startProcess(
      "scripts/start.ts",
      embeddedEnv(dataDir, {
        SIM_CHARGERS: "0",
        OPERATOR_TOKEN: OPERATOR,
        TOKEN_SECRET,
        MQTT_MAX_PACKET_BYTES: "65536",
        MQTT_CONNECT_RATE_PER_MINUTE: "1000",
      }),
      "npm start (hostile)",
    );
    const ready = await proc.waitForLog((l) => l.msg === "ChargeBridge is running", 90_000, "ready line");
    api = apiClient(ready.apiUrl as string);
    mqttUrl = ready.mqttUrl as string;
    centralMetrics = `${ready.apiUrl}/metrics`;
    gatewayMetrics = `${ready.gatewayHttpUrl}/metrics`;
    for (const cpId of ["cp-good", "cp-evil", "cp-replay"]) {
      const res = await api("POST", "/v1/charge-points", OPERATOR, { cpId });
      expect(res.status).toBe(201);
      secrets[cpId] = res.body.mqtt.password;
    }
    goodDriver = (await api("POST", "/v1/drivers", undefined, { name: "Good Driver" })).body.token;
    // The gateway learns the credentials over the bus; the first attempts may race it (slowly
    // enough not to run into the per-cpId limit on failed attempts).
    good = await waitFor(() => GoodCharger.start(mqttUrl, "cp-good", secrets["cp-good"]!), { intervalMs: 250, timeoutMs: 20_000, what: "good charger connected" });
    await waitFor(async () => (await cp("cp-good")).status === "available" && (await cp("cp-good")).online, { what: "cp-good online" });
  });

  afterAll(async () => {
    for (const c of hostile) c.end(true);
    good?.client.end(true);
    await proc?.kill();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("malformed JSON: acknowledged, dead-lettered, no effect", async () => {
    await around(async () => {
      const c = await evil();
      const invalid = () => counter(gatewayMetrics, "chargebridge_gateway_messages_invalid_total", 'reason="payload is not valid JSON"');
      const before = await invalid();
      const statusBefore = (await cp("cp-evil")).status;
      for (const raw of ["{not json", '{"id":"x","ts":', "", "\u0000", "[1,2"]) await c.publishAsync(upTopic("cp-evil", "status"), raw, { qos: 1 });
      await waitFor(async () => (await invalid()) === before + 5, { what: "5 dead letters" });
      await marker(c, "cp-evil", "after-malformed");
      expect((await cp("cp-evil")).status).toBe(statusBefore);
      expect(c.connected).toBe(true);
    });
  });

  it("wrong types and unstorable values: acknowledged, dead-lettered, no effect, Central not stuck", async () => {
    await around(async () => {
      const c = await evil();
      const before = await counter(gatewayMetrics, "chargebridge_gateway_messages_invalid_total");
      const ts = new Date().toISOString();
      const bad: [string, unknown][] = [
        ["status", { id: "t1", ts, status: 42 }],
        ["status", { id: { $ne: 1 }, ts, status: "faulted" }],
        ["fault", { id: "t3", ts: 5, code: "E1", message: "m" }],
        ["fault", { id: "t4", ts, code: ["E1"], message: null }],
        ["status", [{ id: "t5", ts, status: "faulted" }]],
        ["status", null],
        // would poison Central's consumer if they got through: PostgreSQL can store neither
        ["boot", { id: "t7", ts, vendor: "nul\u0000byte", model: "m", firmware: "f" }],
        ["fault", { id: "t8", ts: "0000-01-01T00:00:00Z", code: "E1", message: "year zero" }],
      ];
      for (const [type, payload] of bad) await c.publishAsync(upTopic("cp-evil", type), JSON.stringify(payload), { qos: 1 });
      await waitFor(async () => (await counter(gatewayMetrics, "chargebridge_gateway_messages_invalid_total")) === before + bad.length, { what: "all dead-lettered" });
      await marker(c, "cp-evil", "after-wrong-types");
      expect(await cp("cp-evil")).toMatchObject({ fault: null, vendor: "v" });
      expect((await cp("cp-evil")).status).not.toBe("faulted");
    });
  });

  it("huge payloads and packets: dead-lettered under the packet limit, disconnected over it; huge REST bodies 413", async () => {
    await around(async () => {
      const c = await evil();
      await c.publishAsync(upTopic("cp-evil", "fault"), message("big-1", { code: "E", message: "x".repeat(20_000) }), { qos: 1 });
      await waitFor(async () => (await counter(gatewayMetrics, "chargebridge_gateway_messages_invalid_total", 'reason="payload exceeds 16384 bytes"')) === 1, { what: "oversized payload dead-lettered" });
      expect(c.connected).toBe(true);

      const tooLarge = () => counter(gatewayMetrics, "chargebridge_gateway_refused_total", 'what="packet_too_large"');
      c.publish(upTopic("cp-evil", "fault"), message("huge-1", { code: "E", message: "x".repeat(100_000) }), { qos: 1 });
      await closed(c);
      expect(await tooLarge()).toBe(1);

      // No CONNECT needed: a header declaring 256 MiB is enough to be dropped, unbuffered.
      const socket = tcpConnect(Number(new URL(mqttUrl).port), "127.0.0.1");
      socket.on("error", () => {});
      const gone = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      await gone;
      expect(await tooLarge()).toBe(2);

      const rest = await api("POST", "/v1/drivers", undefined, { name: "x".repeat(100_000) });
      expect(rest.status).toBe(413);
      expect(rest.body.error.code).toBe("payload_too_large");
      expect((await cp("cp-evil")).fault).toBeNull();
    });
  });

  it("+, # and / in ids: refused on connect (CONNACK 2), in REST bodies (400) and paths (404)", async () => {
    await around(async () => {
      for (const clientId of ["cp+1", "cp#", "cp/evil", "+", "#", "chargebridge/v1/cp-good"]) {
        const attempt = await tryConnect(mqttUrl, clientId, "whatever");
        expect(attempt.code, clientId).toBe(2);
      }
      for (const cpId of ["a+b", "a#b", "a/b", "cp-good/#", "+"]) {
        const created = await api("POST", "/v1/charge-points", OPERATOR, { cpId });
        expect(created.status).toBe(400);
        expect(created.body.error).toMatchObject({ code: "validation_failed", field: "cpId" });
        const reserved = await api("POST", "/v1/reservations", goodDriver, { cpId });
        expect(reserved.status).toBe(400);
        expect(reserved.body.error.field).toBe("cpId");
      }
      for (const path of ["/v1/charge-points/a%2Fb", "/v1/charge-points/a+b", "/v1/charge-points/%23", "/v1/reservations/a%2F..%2Fb"]) {
        const res = await api("GET", path, goodDriver);
        expect(res.status, path).toBe(404);
        expect(res.body.error.code).toBe("not_found");
      }
    });
  });

  it("publishing to another charger's topics: disconnected, nothing forwarded", async () => {
    await around(async () => {
      const refused = () => counter(gatewayMetrics, "chargebridge_gateway_refused_total", 'what="publish"');
      const before = await refused();
      const spoofUp = await evil();
      spoofUp.publish(upTopic("cp-good", "heartbeat"), message("spoof-up"), { qos: 1 });
      await closed(spoofUp);
      const spoofDown = await evil();
      spoofDown.publish("chargebridge/v1/cp-good/down/stop", message("spoof-down", { reservationId: "r-1" }), { qos: 1 });
      await closed(spoofDown);
      expect(await refused()).toBe(before + 2);
      expect(good.commands.some((m) => m.body.id === "spoof-down")).toBe(false);
      // `around` then checks Central applied exactly the good charger's own heartbeats.
    });
  });

  it("subscribing to wildcards or another charger's commands: SUBACK 0x80, nothing delivered", async () => {
    await around(async () => {
      const c = await evil();
      const seen: string[] = [];
      c.on("message", (topic) => seen.push(topic));
      for (const topic of ["#", "+/+/+/+/+", "chargebridge/v1/+/down/#", downFilter("cp-good"), "chargebridge/v1/cp-good/up/#", "$SYS/#"]) {
        expect(await grantedQos(c, topic), topic).toBe(128);
      }
      expect(c.connected).toBe(true);
      // A real command for cp-good goes to cp-good only.
      const r = await api("POST", "/v1/reservations", goodDriver, { cpId: "cp-good" });
      expect(r.status).toBe(201);
      await waitFor(() => good.commands.some((m) => m.topic.endsWith("/down/reserve")), { what: "reserve delivered to cp-good" });
      expect((await api("DELETE", `/v1/reservations/${r.body.reservationId}`, goodDriver)).status).toBe(200);
      await waitFor(() => good.commands.some((m) => m.topic.endsWith("/down/cancel_reservation")), { what: "cancel delivered to cp-good" });
      expect(seen).toEqual([]);
    });
  });

  it("replayed message ids change nothing", async () => {
    await around(async () => {
      const c = await evil("cp-replay");
      const duplicates = () => counter(centralMetrics, "chargebridge_central_events_duplicate_total");
      const fault = message("f-1", { code: "E42", message: "Overheating" });
      await c.publishAsync(upTopic("cp-replay", "fault"), fault, { qos: 1 });
      await waitFor(async () => (await cp("cp-replay")).status === "faulted", { what: "faulted" });
      await c.publishAsync(upTopic("cp-replay", "fault_cleared"), message("fc-1"), { qos: 1 });
      await waitFor(async () => (await cp("cp-replay")).status === "available", { what: "cleared" });
      const before = await duplicates();
      await c.publishAsync(upTopic("cp-replay", "fault"), fault, { qos: 1 }); // byte-for-byte replay
      await c.publishAsync(upTopic("cp-replay", "fault"), message("fc-1", { code: "E1", message: "same id, new content" }), { qos: 1 });
      await marker(c, "cp-replay", "after-replay");
      expect(await cp("cp-replay")).toMatchObject({ status: "available", fault: null });
      expect(await duplicates()).toBe(before + 2);
    });
  });

  it("SQL meta-characters: stored verbatim as text, refused by pattern as ids", async () => {
    await around(async () => {
      const sql = "'; DROP TABLE drivers; --";
      const d = await api("POST", "/v1/drivers", undefined, { name: sql });
      expect(d.status).toBe(201);
      expect((await api("GET", "/v1/drivers/me", d.body.token)).body).toMatchObject({ driverId: d.body.driverId, name: sql });

      const c = await evil();
      await c.publishAsync(upTopic("cp-evil", "fault"), message("sql-1", { code: "E'1", message: "'; DROP TABLE charge_points; --" }), { qos: 1 });
      await waitFor(async () => (await cp("cp-evil")).fault?.message === "'; DROP TABLE charge_points; --", { what: "fault text stored verbatim" });
      await c.publishAsync(upTopic("cp-evil", "fault_cleared"), message("sql-2"), { qos: 1 });

      const id = "x'; DROP TABLE charge_points; --";
      expect((await tryConnect(mqttUrl, id, "whatever")).code).toBe(2);
      const created = await api("POST", "/v1/charge-points", OPERATOR, { cpId: id });
      expect(created.body.error).toMatchObject({ code: "validation_failed", field: "cpId" });
      expect((await api("GET", `/v1/charge-points/${encodeURIComponent(id)}`, OPERATOR)).status).toBe(404);
      expect((await api("GET", `/v1/reservations/${encodeURIComponent("1' OR '1'='1")}`, goodDriver)).status).toBe(404);
      expect((await api("GET", "/v1/drivers/me", goodDriver)).body.name).toBe("Good Driver"); // both tables intact
      expect((await api("GET", "/v1/charge-points", OPERATOR)).body).toHaveLength(3);
    });
  });

  it("expired, forged, tampered and alg=none tokens: 401", async () => {
    await around(async () => {
      const now = Math.floor(Date.now() / 1000);
      const me = (await api("GET", "/v1/drivers/me", goodDriver)).body.driverId as string;
      const claims = { sub: me, role: "driver", iat: now - 7200, exp: now - 3600 };
      const [head, , signature] = goodDriver.split(".");
      const tokens = {
        expired: await sign(claims, TOKEN_SECRET, "HS256"),
        forged: await sign({ ...claims, exp: now + 3600 }, "some-other-secret-0123456789abcdef-xyz", "HS256"),
        tampered: `${head}.${b64url({ ...claims, role: "operator", exp: now + 3600 })}.${signature}`,
        none: `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ ...claims, exp: now + 3600 })}.`,
      };
      for (const [kind, token] of Object.entries(tokens)) {
        const res = await api("GET", "/v1/sessions", token);
        expect(res.status, kind).toBe(401);
        expect(res.body.error.code).toBe("unauthorized");
      }
      expect((await api("POST", "/v1/charge-points", goodDriver, { cpId: "cp-by-driver" })).status).toBe(403);
      expect((await api("GET", "/v1/sessions", goodDriver)).status).toBe(200);
    });
  });

  it("another driver's reservation: 404, exactly like a missing one, and untouched", async () => {
    await around(async () => {
      const mallory = (await api("POST", "/v1/drivers", undefined, { name: "Mallory" })).body.token as string;
      const r = await api("POST", "/v1/reservations", goodDriver, { cpId: "cp-good" });
      expect(r.status).toBe(201);
      const id = r.body.reservationId as string;
      for (const [method, path] of [["GET", `/v1/reservations/${id}`], ["POST", `/v1/reservations/${id}/start`], ["POST", `/v1/reservations/${id}/stop`], ["DELETE", `/v1/reservations/${id}`]]) {
        const res = await api(method!, path!, mallory);
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.error.code).toBe("not_found");
      }
      expect((await api("GET", `/v1/reservations/${id}`, goodDriver)).body.status).toBe("reserved");
      expect((await api("DELETE", `/v1/reservations/${id}`, goodDriver)).status).toBe(200);
    });
  });

  it("lost nothing: Central applied exactly the good charger's heartbeats", async () => {
    await good.stop();
    await waitFor(async () => (await applied("heartbeat")) === good.sent, { what: `exactly ${good.sent} heartbeats applied` });
    expect(good.acked).toBe(good.sent);
    expect(good.closes).toBe(0);
    // No 5xx and no failed event application anywhere along the way: nothing logged as an error.
    expect(proc.lines.filter((l) => (l.level ?? 0) >= 50).map((l) => l.msg)).toEqual([]);
  });
});
