import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionChargers, startFleet, type Fleet } from "../../firmware-sim/index.ts";
import { apiClient, type ApiCall } from "../support/api-client.ts";
import { ensureKafka } from "../support/kafka.ts";
import { createTestDatabase } from "../support/postgres-database.ts";
import { runTopics } from "../support/run-topics.ts";
import { startProcess, type RunningProcess } from "../support/processes.ts";
import { SseReader } from "../support/sse-client.ts";
import { waitFor } from "../support/wait.ts";
import { expectChargersOnline, runChargeFlow, runTimeoutRollback } from "./charge-flow.scenario.ts";

const TTL_SECONDS = 4;
const OPERATOR = "e2e-operator-token-0123456789";

describe("production path: Central and gateway as separate processes on Kafka and PostgreSQL", () => {
  const run = Date.now().toString(36);
  let central: RunningProcess;
  let gateway: RunningProcess;
  let gateway2: RunningProcess;
  let fleet: Fleet;
  let fleet2: Fleet;
  let api: ApiCall;
  let database: { url: string; drop(): Promise<void> };
  let dataDir: string;

  beforeAll(async () => {
    const brokers = (await ensureKafka()).join(",");
    database = await createTestDatabase("e2e");
    dataDir = await mkdtemp(join(tmpdir(), "cb-prod-"));
    // Topics and groups of their own, so runs against a long-lived broker never see each other.
    const topics = runTopics(`e2e-${run}`);
    central = startProcess(
      "central/main.ts",
      {
        ...topics,
        KAFKA_BROKERS: brokers,
        DATABASE_URL: database.url,
        HTTP_PORT: "0",
        OPERATOR_TOKEN: OPERATOR,
        // Tests poll the API far faster than a driver app; the limiter has its own tests.
        DRIVER_RATE_PER_MINUTE: "0",
        RESERVATION_TTL_SECONDS: String(TTL_SECONDS),
        CENTRAL_GROUP_ID: `e2e-${run}-central`,
      },
      "central",
    );
    gateway = startProcess(
      "gateway/main.ts",
      { ...topics, KAFKA_BROKERS: brokers, MQTT_PORT: "0", OCPP_PORT: "0", GATEWAY_HTTP_PORT: "0", DATA_DIR: dataDir, GATEWAY_ID: `e2e-${run}` },
      "gateway",
    );
    // A second site: its own gateway, its own chargers, the same Central.
    gateway2 = startProcess(
      "gateway/main.ts",
      { ...topics, KAFKA_BROKERS: brokers, MQTT_PORT: "0", OCPP_PORT: "0", GATEWAY_HTTP_PORT: "0", DATA_DIR: `${dataDir}-site2`, GATEWAY_ID: `e2e-${run}-site2` },
      "gateway-2",
    );
    const c = await central.waitForLog((l) => l.msg === "Central is running", 120_000, "ready");
    const g = await gateway.waitForLog((l) => l.msg === "Gateway is running", 120_000, "ready");
    const g2 = await gateway2.waitForLog((l) => l.msg === "Gateway is running", 120_000, "ready");
    api = apiClient(c.apiUrl as string);
    const chargers = await provisionChargers({ apiUrl: c.apiUrl as string, operatorToken: OPERATOR, cpIds: ["prod-cp-1", "prod-cp-2", "prod-cp-3"] });
    fleet = await startFleet({ url: g.mqttUrl as string, chargers: chargers.slice(0, 2), meterMs: 200, heartbeatMs: 5_000, reconnectMs: 500 });
    fleet2 = await startFleet({ url: g2.mqttUrl as string, chargers: chargers.slice(2), meterMs: 200, heartbeatMs: 5_000, reconnectMs: 500 });
    await expectChargersOnline(api, OPERATOR, ["prod-cp-1", "prod-cp-2", "prod-cp-3"]);
  });

  afterAll(async () => {
    await fleet?.stop();
    await fleet2?.stop();
    await gateway2?.kill();
    await gateway?.kill();
    await central?.kill();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (dataDir) await rm(`${dataDir}-site2`, { recursive: true, force: true });
  });

  it("reports Kafka and PostgreSQL in readiness, and the consumer's state in health", async () => {
    // Ready once every bus link is up: the bus reads "connecting" while a consumer (events, gateway
    // health) is still joining its group after start.
    const ready = await waitFor(async () => {
      const r = (await api("GET", "/readyz")).body;
      return r.status === "ready" ? r : null;
    }, { timeoutMs: 60_000, what: "Central ready" });
    expect(ready).toMatchObject({ status: "ready", checks: { database: true, bus: true } });
    const health = await waitFor(
      async () => {
        const h = (await api("GET", "/healthz")).body;
        return h.subscriptions?.events === "joined" ? h : null;
      },
      { timeoutMs: 60_000, what: "Central's events subscription joined" },
    );
    expect(health).toMatchObject({ status: "ok", db: "postgres", bus: { state: "connected" } });
  });

  it("takes a driver from reservation to a completed session with energy", async () => {
    await runChargeFlow(api, "prod-cp-1");
  });

  it("runs the same flow at a second site, whose gateway alone delivers its chargers' commands", async () => {
    await runChargeFlow(api, "prod-cp-3");
    const cp = (await api("GET", "/v1/charge-points/prod-cp-3", OPERATOR)).body;
    expect(cp.online).toBe(true);
  });

  it("rolls back a reservation that times out", async () => {
    await runTimeoutRollback(api, TTL_SECONDS);
  });

  it("shows both gateways' health over Kafka in GET /v1/gateways and on the operator's stream, with a reservation's changes", async () => {
    const ids = [`e2e-${run}`, `e2e-${run}-site2`];
    const listed = await waitFor(
      async () => {
        const body = (await api("GET", "/v1/gateways", OPERATOR)).body as any[];
        return ids.every((id) => body.some((g) => g.gatewayId === id && g.connected.mqtt >= 1)) ? body : null;
      },
      { timeoutMs: 60_000, what: "both gateways' health with their chargers" },
    );
    expect(listed.find((g: any) => g.gatewayId === ids[0])).toMatchObject({ kafka: { state: "connected" }, stale: false, version: "0.1.0" });
    const base = (central.lines.find((l) => l.msg === "Central is running")!.apiUrl as string).replace(/\/$/, "");
    const op = await SseReader.open(`${base}/v1/stream`, { headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(op.status).toBe(200);
    try {
      const snap = await op.reader!.next((e) => e.event === "snapshot");
      expect(snap.data.gateways.map((g: any) => g.gatewayId)).toEqual(expect.arrayContaining(ids));
      // The next health record (every 5 s) arrives as a `gateway` event.
      await op.reader!.next((e) => e.event === "gateway" && ids.includes(e.data.gatewayId), "gateway event", 30_000);
      // A driver's reservation reaches the stream as the charge point's change and the reservation's,
      // whichever instance's consumer or route made it; so does its cancellation.
      const { body: driver } = await api("POST", "/v1/drivers", undefined, { name: "Stream watcher" });
      const reserved = await api("POST", "/v1/reservations", driver.token, { cpId: "prod-cp-2" });
      expect(reserved.status).toBe(201);
      const held = await op.reader!.next((e) => e.event === "charge_point" && e.data.cpId === "prod-cp-2" && e.data.status === "reserved", "charge point reserved", 30_000);
      await op.reader!.next((e) => e.event === "reservation" && e.data.reservationId === reserved.body.reservationId, "reservation event", 30_000);
      expect((await api("DELETE", `/v1/reservations/${reserved.body.reservationId}`, driver.token)).status).toBe(200);
      const after = (e: { id?: string }) => e.id !== undefined && BigInt(e.id) > BigInt(held.id!);
      await op.reader!.next((e) => after(e) && e.event === "charge_point" && e.data.cpId === "prod-cp-2" && e.data.status === "available", "charge point available again", 30_000);
    } finally {
      op.reader!.close();
    }
  }, 180_000);

  it("stops both processes gracefully on SIGTERM", async () => {
    await fleet.stop();
    await fleet2.stop();
    expect(await gateway2.stop()).toBe(0);
    expect(await gateway.stop()).toBe(0);
    expect(await central.stop()).toBe(0);
  });
});
