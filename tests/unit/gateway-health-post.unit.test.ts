import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TOPICS, type GatewayHealth } from "../../protocol/index.ts";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";
import { SseReader } from "../support/sse-client.ts";
import { waitFor } from "../support/wait.ts";

const GW = "gw-http-1";
const record = (at: string, depth: number, gatewayId = GW): GatewayHealth => ({
  kind: "gateway_health", gatewayId, version: "0.1.0", queue: { depth, bytes: depth * 10, oldestAgeMs: depth },
  kafka: { state: "disconnected", reconnects: 2 }, connected: { mqtt: 3 }, at,
});

/** Central in-process on PGlite: the health side channel's REST routes, through app.request(). */
describe("POST /v1/gateways/{gatewayId}/health and /token", () => {
  let h: CentralHarness;
  let token: string;
  const listed = async () => (await h.request("GET", "/v1/gateways", OPERATOR)).body.find((g: any) => g.gatewayId === GW);

  beforeAll(async () => {
    h = await createCentralHarness({ GATEWAY_STALE_SECONDS: "20" });
    await h.central.start({ listen: false });
    const issued = await h.request("POST", `/v1/gateways/${GW}/token`, OPERATOR);
    expect(issued.status).toBe(200);
    expect(issued.body.gatewayId).toBe(GW);
    token = issued.body.token;
  });
  afterAll(async () => {
    await h.close();
  });

  it("issues gateway tokens to the operator only", async () => {
    const d = await h.driver();
    expect((await h.request("POST", `/v1/gateways/${GW}/token`)).status).toBe(401);
    expect((await h.request("POST", `/v1/gateways/${GW}/token`, d.token)).status).toBe(403);
    expect((await h.request("POST", `/v1/gateways/${GW}/token`, token)).status).toBe(403);
    expect((await h.request("POST", "/v1/gateways/bad%20id!/token", OPERATOR)).status).toBe(404);
  });

  it("refuses without a valid gateway token for that gateway", async () => {
    const body = record("2026-06-01T12:00:00.000Z", 1);
    const d = await h.driver();
    const other = (await h.request("POST", "/v1/gateways/gw-other/token", OPERATOR)).body.token;
    expect((await h.request("POST", `/v1/gateways/${GW}/health`, undefined, body)).status).toBe(401);
    expect((await h.request("POST", `/v1/gateways/${GW}/health`, "not-a-token", body)).status).toBe(401);
    expect((await h.request("POST", `/v1/gateways/${GW}/health`, `${token}x`, body)).status).toBe(401);
    expect((await h.request("POST", `/v1/gateways/${GW}/health`, d.token, body)).status).toBe(403);
    expect((await h.request("POST", `/v1/gateways/${GW}/health`, OPERATOR, body)).status).toBe(403);
    const foreign = await h.request("POST", `/v1/gateways/${GW}/health`, other, body);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("forbidden");
    expect(await listed()).toBeUndefined();
  });

  it("a gateway token can do nothing else", async () => {
    const routes: [string, string, unknown?][] = [
      ["GET", "/v1/gateways"], ["GET", "/v1/charge-points"], ["GET", `/v1/charge-points/cp-1`], ["POST", "/v1/charge-points", { cpId: "cp-x" }],
      ["POST", "/v1/reservations", {}], ["GET", "/v1/sessions"], ["GET", "/v1/drivers/me"], ["POST", "/v1/drivers/me/token"],
      ["POST", "/v1/stream-tickets"], ["GET", "/v1/stream"], ["POST", `/v1/gateways/${GW}/token`],
    ];
    for (const [method, path, body] of routes) {
      const res = await h.request(method, path, token, body);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
    }
  });

  it("validates the record with the protocol's schema, naming the field", async () => {
    const bad = await h.request("POST", `/v1/gateways/${GW}/health`, token, { ...record("2026-06-01T12:00:00.000Z", 1), queue: { depth: -1, bytes: 0, oldestAgeMs: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "validation_failed", field: "queue.depth" });
    const noAt = await h.request("POST", `/v1/gateways/${GW}/health`, token, { ...record("x", 1), at: undefined });
    expect(noAt.body.error.field).toBe("at");
    const notJson = await h.request("POST", `/v1/gateways/${GW}/health`, token, "{nope");
    expect(notJson.status).toBe(400);
    const mismatch = await h.request("POST", `/v1/gateways/${GW}/health`, token, record("2026-06-01T12:00:00.000Z", 1, "gw-other"));
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.field).toBe("gatewayId");
    expect(await listed()).toBeUndefined();
  });

  it("stores the record, pushes it on the stream, and keeps the newest whichever path brought it", async () => {
    const res = await h.central.app.request("/v1/stream", { headers: { authorization: `Bearer ${OPERATOR}` } });
    const stream = new SseReader(res.body!);
    await stream.next((e) => e.event === "snapshot");

    const first = await h.request("POST", `/v1/gateways/${GW}/health`, token, record("2026-06-01T12:00:01.000Z", 10));
    expect(first).toEqual({ status: 200, body: { gatewayId: GW, stored: true } });
    expect(await listed()).toMatchObject({ queue: { depth: 10 }, kafka: { state: "disconnected" }, stale: false });
    const pushed = await stream.next((e) => e.event === "gateway" && e.data.gatewayId === GW, "gateway event");
    expect(pushed.data.queue.depth).toBe(10);

    // The Kafka path delivers a newer one; a late HTTP one older than it changes nothing.
    await h.bus.publish(DEFAULT_TOPICS.gatewayHealth, [{ key: GW, value: JSON.stringify(record("2026-06-01T12:00:03.000Z", 30)) }]);
    await waitFor(async () => (await listed())?.queue.depth === 30, { what: "the Kafka-path record" });
    const late = await h.request("POST", `/v1/gateways/${GW}/health`, token, record("2026-06-01T12:00:02.000Z", 20));
    expect(late).toEqual({ status: 200, body: { gatewayId: GW, stored: false } });
    expect((await listed()).queue.depth).toBe(30);

    // And the other way round: a newer HTTP record wins over an older one replayed from Kafka.
    expect((await h.request("POST", `/v1/gateways/${GW}/health`, token, record("2026-06-01T12:00:05.000Z", 50))).body.stored).toBe(true);
    await h.bus.publish(DEFAULT_TOPICS.gatewayHealth, [{ key: GW, value: JSON.stringify(record("2026-06-01T12:00:04.000Z", 40)) }]);
    // A marker after the replay on the same topic: once it is applied, the replay was too.
    await h.bus.publish(DEFAULT_TOPICS.gatewayHealth, [{ key: "gw-marker", value: JSON.stringify(record("2026-06-01T12:00:04.000Z", 1, "gw-marker")) }]);
    await waitFor(async () => (await h.request("GET", "/v1/gateways", OPERATOR)).body.some((g: any) => g.gatewayId === "gw-marker"), { what: "marker" });
    expect((await listed()).queue.depth).toBe(50);
    stream.close();
  });

  it("a new token revokes the earlier one", async () => {
    const next = (await h.request("POST", `/v1/gateways/${GW}/token`, OPERATOR)).body.token;
    const old = await h.request("POST", `/v1/gateways/${GW}/health`, token, record("2026-06-01T12:01:00.000Z", 1));
    expect(old.status).toBe(401);
    expect((await h.request("POST", `/v1/gateways/${GW}/health`, next, record("2026-06-01T12:01:00.000Z", 1))).status).toBe(200);
    token = next;
  });
});
