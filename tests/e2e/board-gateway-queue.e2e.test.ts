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
 * Health records travel on the bus (chargebridge.gateways.health); while Kafka is down the
 * gateway, given CENTRAL_URL and an operator-issued GATEWAY_TOKEN, sends them to Central over
 * HTTP instead (docs/protocol.md, health side channel). So the board keeps showing the gateway
 * through the outage, its queue depth rising as the charger publishes, and then the drain.
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
    const ready = await central.waitForLog((l) => l.msg === "Central is running", 120_000, "ready");
    const apiUrl = ready.apiUrl as string;
    // The operator issues the gateway its token, as docs/operations.md tells them to.
    const issued = await fetch(`${apiUrl}/v1/gateways/fault-${rig.run}/token`, { method: "POST", headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(issued.status).toBe(200);
    const { token } = (await issued.json()) as { token: string };
    // Small forward batches: after the outage the queue drains over seconds, not in one round trip.
    await rig.startGateway({
      GATEWAY_HEALTH_INTERVAL_SECONDS: "1", FORWARD_BATCH_MAX_BYTES: "1024", FORWARD_RECORD_MAX_BYTES: "1024",
      CENTRAL_URL: apiUrl, GATEWAY_TOKEN: token,
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${apiUrl}/board#token=${OPERATOR}`);
    client = await rig.connect(CP, SECRET);
  }, 600_000); // a broker, Central and a gateway on two shared cores, and perhaps a chromium install
  afterAll(async () => {
    client?.end(true);
    await browser?.close();
    await central?.kill();
    await rig.close();
    await database?.drop();
  }, 120_000);

  it("shows the gateway healthy, then its queue rising while Kafka is down, then the drain", { timeout: 300_000 }, async () => {
    await gatewayRow().locator(".kafka", { hasText: "connected" }).waitFor({ timeout: 30_000 });
    // The charger's presence record may still be on its way to Kafka: wait for the empty queue.
    await gatewayRow().locator(".queue-depth", { hasText: /^0$/ }).waitFor({ timeout: 30_000 });

    await killKafka(rig.kafka);
    // The board's own view of the outage, sampled throughout: depths it showed, warnings it gave.
    const outageDepths: number[] = [];
    const outageWarnings = new Set<string>();
    const boardDepthAtLeast = (n: number) => async () => {
      outageWarnings.add((await gatewayRow().locator(".warnings").textContent()) ?? "");
      const depth = Number(await gatewayRow().locator(".queue-depth").textContent());
      if (outageDepths.at(-1) !== depth) outageDepths.push(depth);
      return depth >= n;
    };
    // Two halves, so the board has to show the depth climb while Kafka is still down.
    await publishNumbered(client, CP, 0, QUEUED / 2);
    await waitFor(boardDepthAtLeast(QUEUED / 2), { timeoutMs: 60_000, intervalMs: 100, what: "the board to show the first half queued, Kafka down" });
    await publishNumbered(client, CP, QUEUED / 2, QUEUED / 2);
    await waitFor(boardDepthAtLeast(QUEUED), { timeoutMs: 60_000, intervalMs: 100, what: "the board to show the whole outage queued, Kafka down" });
    await gatewayRow().locator(".kafka", { hasText: /disconnected|connecting/ }).waitFor({ timeout: 10_000 });
    const queued = (await rig.gatewayHealth()).queue.depth;
    console.log(`board's queue depths while Kafka was down: ${outageDepths.join(" → ")} (gateway's own /healthz: ${queued})`);
    const shown = outageDepths.filter((d) => d > 0);
    expect(shown.length).toBeGreaterThanOrEqual(2);
    expect(shown.at(-1)!).toBeGreaterThan(shown[0]!);
    expect([...outageWarnings].some((w) => w.includes("Queue growing"))).toBe(true);
    expect([...outageWarnings].some((w) => /Kafka link (down|not up yet)/.test(w))).toBe(true);
    // The side channel kept the gateway fresh: Central never judged it silent.
    expect([...outageWarnings].some((w) => w.includes("Silent"))).toBe(false);

    const depths: number[] = [];
    await restartKafka(rig.kafka);
    await waitFor(async () => {
      const depth = Number(await gatewayRow().locator(".queue-depth").textContent());
      if (depths.at(-1) !== depth) depths.push(depth);
      return depths.some((d) => d > 0) && depth === 0;
    }, { timeoutMs: 120_000, intervalMs: 50, what: "the board to show the queued depth and then the drain" });
    console.log(`queue depths the board showed after Kafka came back: ${depths.join(" → ")}`);
    expect(Math.max(...depths)).toBeGreaterThan(0);
    await gatewayRow().locator(".kafka", { hasText: "connected" }).waitFor();
  });
});
