import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, loadGatewayConfig, type Gateway } from "../../gateway/index.ts";
import { DEFAULT_TOPICS, gatewayHealthSchema } from "../../protocol/index.ts";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";
import { SseReader } from "../support/sse-client.ts";
import { waitFor } from "../support/wait.ts";

/** A real gateway and Central on one in-process bus: health records reach GET /v1/gateways and the stream. */
describe("gateway health", () => {
  let h: CentralHarness;
  let gateway: Gateway;
  let dir: string;
  let stream: SseReader;

  beforeAll(async () => {
    h = await createCentralHarness({ GATEWAY_STALE_SECONDS: "20" });
    await h.central.start({ listen: false });
    dir = await mkdtemp(join(tmpdir(), "cb-health-"));
    const config = loadGatewayConfig({
      MQTT_PORT: "0", GATEWAY_HTTP_PORT: "0", MQTT_HOST: "127.0.0.1", DATA_DIR: dir, GATEWAY_ID: "gw-health-1", GATEWAY_HEALTH_INTERVAL_SECONDS: "0.2",
    });
    gateway = await createGateway({ config, bus: h.bus, clock: h.clock, transports: () => ({ ocpp: 2 }) });
    const res = await h.central.app.request("/v1/stream", { headers: { authorization: `Bearer ${OPERATOR}` } });
    stream = new SseReader(res.body!);
    await stream.next((e) => e.event === "snapshot");
  });
  afterAll(async () => {
    stream?.close();
    await gateway?.stop().catch(() => {});
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("shows each gateway's last record to operators, refuses drivers, pushes it on the stream, and marks a silent gateway stale", async () => {
    // A malformed record on the topic is skipped, not fatal.
    await h.bus.publish(DEFAULT_TOPICS.gatewayHealth, [{ key: "x", value: "{not json" }, { key: "y", value: JSON.stringify({ kind: "gateway_health" }) }]);
    await gateway.start();
    const listed = await waitFor(async () => {
      const res = await h.request("GET", "/v1/gateways", OPERATOR);
      return res.body?.length === 1 ? res.body[0] : null;
    }, { what: "gateway in GET /v1/gateways" });
    expect(listed).toMatchObject({
      gatewayId: "gw-health-1",
      version: "0.1.0",
      queue: { depth: 0, bytes: 0, oldestAgeMs: 0 },
      kafka: { state: "connected" },
      connected: { mqtt: 0, ocpp: 2 },
      stale: false,
    });
    const d = await h.driver();
    expect((await h.request("GET", "/v1/gateways", d.token)).status).toBe(403);
    expect((await h.request("GET", "/v1/gateways")).status).toBe(401);

    const pushed = await stream.next((e) => e.event === "gateway" && e.data.gatewayId === "gw-health-1", "gateway event");
    expect(pushed.id).toMatch(/^\d+$/);
    expect(pushed.data.stale).toBe(false);
    // The driver's stream never carries gateways.
    const dres = await h.central.app.request("/v1/stream", { headers: { authorization: `Bearer ${d.token}` } });
    const driverStream = new SseReader(dres.body!);
    const dsnap = await driverStream.next((e) => e.event === "snapshot");
    expect(dsnap.data.gateways).toBeUndefined();

    await gateway.stop();
    h.clock.advance(21_000);
    const stale = await waitFor(async () => (await h.request("GET", "/v1/gateways", OPERATOR)).body.find((g: any) => g.stale), { what: "stale gateway" });
    expect(stale.gatewayId).toBe("gw-health-1");
    await stream.next((e) => e.event === "gateway" && e.data.stale === true, "stale pushed on the stream");
    expect(driverStream.of("gateway")).toHaveLength(0);
    driverStream.close();
  });

  it("a record is what protocol/gateway-health.ts says", () => {
    const ok = gatewayHealthSchema.safeParse({
      kind: "gateway_health", gatewayId: "g", version: "1", queue: { depth: 1, bytes: 2, oldestAgeMs: 3 },
      kafka: { state: "disconnected", reconnects: 0 }, connected: { mqtt: 1 }, at: "2026-01-01T00:00:00Z",
    });
    expect(ok.success).toBe(true);
    expect(gatewayHealthSchema.safeParse({ kind: "gateway_health", gatewayId: "bad id!" }).success).toBe(false);
  });
});
