import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { MqttClient } from "mqtt";
import { launchChromium } from "../support/chromium.ts";
import { FaultRig, publishNumbered } from "../support/fault-rig.ts";
import { ensureKafka, killKafka, restartKafka } from "../support/kafka.ts";
import { createTestDatabase } from "../support/postgres-database.ts";
import { startProcess, type RunningProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const OPERATOR = "board-queue-operator-token-0123456789";
const CP = "queue-cp-1";
const SECRET = "queue-cp-1-secret-0123456789";
const QUEUED = 3000;

/**
 * Health records travel on the bus (chargebridge.gateways.health), so while Kafka is down none
 * can reach Central: the board shows the gateway go silent (stale), and the depth that built up
 * during the outage as soon as the first record after it gets through.
 */
describe("board: a gateway's queue while Kafka is down (Central, gateway and Kafka as real processes)", () => {
  const rig = new FaultRig(2);
  let central: RunningProcess;
  let database: { url: string; drop(): Promise<void> };
  let browser: Browser;
  let page: Page;
  let client: MqttClient;
  const gatewayRow = () => page.locator(`#gw-rows tr[data-gateway="${`fault-${rig.run}`}"]`);

  beforeAll(async () => {
    await ensureKafka(rig.kafka);
    database = await createTestDatabase("board_queue");
    central = startProcess("central/main.ts", {
      ...rig.topics, KAFKA_BROKERS: rig.brokers, DATABASE_URL: database.url, HTTP_PORT: "0", OPERATOR_TOKEN: OPERATOR,
      CENTRAL_GROUP_ID: `board-${rig.run}-central`, GATEWAY_STALE_SECONDS: "3",
    }, "central");
    await rig.seedCredentials({ [CP]: SECRET });
    // Small forward batches: after the outage the queue drains over seconds, not in one round trip.
    await rig.startGateway({ GATEWAY_HEALTH_INTERVAL_SECONDS: "1", FORWARD_BATCH_MAX_BYTES: "1024", FORWARD_RECORD_MAX_BYTES: "1024" });
    const ready = await central.waitForLog((l) => l.msg === "Central is running", 120_000, "ready");
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${ready.apiUrl as string}/board#token=${OPERATOR}`);
    client = await rig.connect(CP, SECRET);
  }, 600_000); // a broker, Central and a gateway on two shared cores, and perhaps a chromium install
  afterAll(async () => {
    client?.end(true);
    await browser?.close();
    await central?.kill();
    await rig.close();
    await database?.drop();
  }, 120_000);

  it("shows the gateway healthy, then silent while Kafka is down, then the queue that built up", { timeout: 300_000 }, async () => {
    await gatewayRow().locator(".kafka", { hasText: "connected" }).waitFor({ timeout: 30_000 });
    expect(await gatewayRow().locator(".queue-depth").textContent()).toBe("0");

    await killKafka(rig.kafka);
    await publishNumbered(client, CP, 0, QUEUED);
    const queued = await waitFor(async () => ((await rig.gatewayHealth()).queue.depth >= QUEUED ? (await rig.gatewayHealth()).queue.depth : 0), { timeoutMs: 60_000, what: "gateway queue depth" });
    console.log(`gateway's own /healthz during the outage: queue depth ${queued}`);
    // No record gets through, so Central judges the gateway stale and the board says so.
    await gatewayRow().locator(".warnings", { hasText: "Silent" }).waitFor({ timeout: 20_000 });

    const depths: number[] = [];
    const warnings = new Set<string>();
    await restartKafka(rig.kafka);
    await waitFor(async () => {
      warnings.add((await gatewayRow().locator(".warnings").textContent()) ?? "");
      const depth = Number(await gatewayRow().locator(".queue-depth").textContent());
      if (depths.at(-1) !== depth) depths.push(depth);
      return depths.some((d) => d > 0) && depth === 0;
    }, { timeoutMs: 120_000, intervalMs: 50, what: "the board to show the queued depth and then the drain" });
    console.log(`queue depths the board showed after Kafka came back: ${depths.join(" → ")}`);
    expect(Math.max(...depths)).toBeGreaterThan(0);
    expect([...warnings].some((w) => w.includes("Queue growing"))).toBe(true);
    await gatewayRow().locator(".kafka", { hasText: "connected" }).waitFor();
  });
});
