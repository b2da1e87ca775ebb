import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, loadGatewayConfig, type Gateway } from "../../gateway/index.ts";
import { createKafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { hashSecret } from "../../platform/password-hash.ts";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";
import { publishNumbered } from "../support/fault-rig.ts";
import { waitFor } from "../support/wait.ts";

const GW = "gw-side-int";
const CP = "side-cp-1";

/**
 * A real gateway whose Kafka is unreachable (a real kafkajs client pointed at a closed port) and
 * Central serving real HTTP: the health record reaches GET /v1/gateways over the side channel,
 * and the queue depth a real MQTT charger builds up rises there.
 */
describe("gateway → Central health over HTTP while Kafka is down", () => {
  let h: CentralHarness;
  let gateway: Gateway;
  let client: MqttClient;
  let dir: string;
  const bus = createKafkaBus({ brokers: ["127.0.0.1:1"], clientId: "side-int", logger: createLogger("test", "silent") });
  const shown = async () => (await h.request("GET", "/v1/gateways", OPERATOR)).body.find((g: any) => g.gatewayId === GW);

  beforeAll(async () => {
    h = await createCentralHarness({ HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", GATEWAY_STALE_SECONDS: "3600" });
    await h.central.start({ listen: true });
    const token = (await h.request("POST", `/v1/gateways/${GW}/token`, OPERATOR)).body.token;
    dir = await mkdtemp(join(tmpdir(), "cb-side-"));
    const config = loadGatewayConfig({
      MQTT_PORT: "0", OCPP_PORT: "0", GATEWAY_HTTP_PORT: "0", MQTT_HOST: "127.0.0.1", DATA_DIR: dir, GATEWAY_ID: GW,
      GATEWAY_HEALTH_INTERVAL_SECONDS: "0.3", CENTRAL_URL: `http://127.0.0.1:${h.central.port()}`, GATEWAY_TOKEN: token,
    });
    gateway = await createGateway({ config, bus });
    // Kafka cannot deliver credentials now; the gateway's cache takes the record it would have consumed.
    gateway.credentials.apply(JSON.stringify({ cpId: CP, hash: await hashSecret("side-secret", 1_000), updatedAt: new Date().toISOString() }));
    await gateway.start();
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort()}`, { clientId: CP, username: CP, password: "side-secret", clean: false, reconnectPeriod: 0, protocolVersion: 4 });
  }, 60_000);
  afterAll(async () => {
    client?.end(true);
    await gateway?.stop().catch(() => {});
    await bus.close().catch(() => {});
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("shows the gateway with Kafka down and its queue rising", async () => {
    const first = await waitFor(async () => ((await shown())?.connected.mqtt === 1 ? shown() : null), { timeoutMs: 20_000, what: "the gateway's record over HTTP, charger connected" });
    expect(first.kafka.state).not.toBe("connected");
    // The charger's presence record is queued already.
    const d0: number = first.queue.depth;
    const depthAtLeast = (n: number) => async () => ((await shown()).queue.depth >= n ? (await shown()).queue.depth : 0);
    await publishNumbered(client, CP, 0, 50);
    const d1 = await waitFor(depthAtLeast(d0 + 50), { timeoutMs: 20_000, what: "depth +50" });
    await publishNumbered(client, CP, 50, 50);
    const d2 = await waitFor(depthAtLeast(d0 + 100), { timeoutMs: 20_000, what: "depth +100" });
    console.log(`queue depth in GET /v1/gateways while Kafka is down: ${d0} → ${d1} → ${d2}`);
    expect(d2).toBeGreaterThan(d1);
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.httpPort()}/metrics`)).text();
    expect(metrics).toMatch(/chargebridge_gateway_health_http_posts_total\{[^}]*outcome="sent"[^}]*\} [1-9]/);
  });
});
