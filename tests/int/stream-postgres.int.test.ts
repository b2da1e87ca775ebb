import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../central/db/db.ts";
import { openPostgresDb } from "../../central/db/postgres-db.ts";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";
import { createTestDatabase } from "../support/postgres-database.ts";
import { SseReader } from "../support/sse-client.ts";

/**
 * Two Central instances on one PostgreSQL database, each with its own pool (and so its own LISTEN
 * connection): a change made through instance A reaches a client of instance B over a real socket.
 */
describe("live stream across instances (PostgreSQL LISTEN/NOTIFY)", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dbA: Db;
  let dbB: Db;
  let a: CentralHarness;
  let b: CentralHarness;
  let base: string;
  const readers: SseReader[] = [];

  beforeAll(async () => {
    database = await createTestDatabase("stream");
    dbA = await openPostgresDb({ url: database.url, maxConnections: 4 });
    dbB = await openPostgresDb({ url: database.url, maxConnections: 4 });
    // A long poll: a push that arrives fast came through NOTIFY, not the fallback read.
    const env = { STREAM_POLL_MS: "30000", HTTP_PORT: "0", HTTP_HOST: "127.0.0.1" };
    a = await createCentralHarness(env, dbA);
    b = await createCentralHarness(env, dbB);
    await b.central.start({ listen: true });
    base = `http://127.0.0.1:${b.central.port()}`;
  });
  afterAll(async () => {
    for (const r of readers) r.close();
    await b?.close();
    await a?.close();
    await dbA?.close();
    await dbB?.close();
    await database?.drop();
  });

  async function open(token: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const res = await SseReader.open(`${base}/v1/stream`, { headers: { authorization: `Bearer ${token}`, ...headers } });
    expect(res.status).toBe(200);
    readers.push(res.reader!);
    return res.reader!;
  }

  it("pushes a reservation made through instance A to a driver's stream on instance B, filtered by driver", async () => {
    await a.provision("cp-pg-1");
    await a.provision("cp-pg-2");
    const ada = await a.driver("Ada");
    const bob = await a.driver("Bob");
    const adaOnB = await open(ada.token);
    const opOnB = await open(OPERATOR);
    await adaOnB.next((e) => e.event === "snapshot");
    await opOnB.next((e) => e.event === "snapshot");

    const sent = performance.now();
    const { body: rb } = await a.request("POST", "/v1/reservations", bob.token, { cpId: "cp-pg-2" });
    const { body: ra } = await a.request("POST", "/v1/reservations", ada.token, { cpId: "cp-pg-1" });
    expect(ra.status).toBe("reserved");
    await adaOnB.next((e) => e.event === "reservation" && e.data.reservationId === ra.reservationId, "A's change on B", 5_000);
    console.log(`[stream-postgres] instance A write -> instance B client: ${(performance.now() - sent).toFixed(1)} ms (poll fallback 30 s, so this came by NOTIFY)`);
    await opOnB.next((e) => e.event === "reservation" && e.data.reservationId === rb.reservationId, "operator sees bob's");
    await adaOnB.next((e) => e.event === "charge_point" && e.data.cpId === "cp-pg-2" && e.data.status === "reserved");
    expect(JSON.stringify(adaOnB.events)).not.toContain(rb.reservationId);

    // Start on A, charging_started applied by A's consumer path, then stop: all pushed on B.
    await a.request("POST", `/v1/reservations/${ra.reservationId}/start`, ada.token);
    await a.emit("cp-pg-1", "charging_started", { reservationId: ra.reservationId, meterStartWh: 0 });
    await adaOnB.next((e) => e.event === "reservation" && e.data.status === "charging", "charging on B");
    const last = adaOnB.lastId()!;
    adaOnB.close();

    // Missed while disconnected; resumed on instance B from an id either instance understands.
    await a.request("POST", `/v1/reservations/${ra.reservationId}/stop`, ada.token);
    await a.emit("cp-pg-1", "charging_stopped", { reservationId: ra.reservationId, meterStopWh: 4200, reason: "remote" });
    const resumed = await open(ada.token, { "last-event-id": last });
    await resumed.next((e) => e.event === "reservation" && e.data.status === "completed", "completed after resume");
    await resumed.next((e) => e.event === "session" && e.data.energyWh === 4200, "session energy after resume");
    expect(resumed.of("snapshot")).toHaveLength(0);
    expect(resumed.of("reservation").map((e) => e.data.status)).toEqual(["completed"]);
  });

  it("a ticket issued by instance A opens a stream on instance B, once", async () => {
    const d = await a.driver("Cy");
    const t = await a.request("POST", "/v1/stream-tickets", d.token);
    const first = await SseReader.open(`${base}${t.body.url}`);
    expect(first.status).toBe(200);
    readers.push(first.reader!);
    await first.reader!.next((e) => e.event === "snapshot");
    const again = await SseReader.open(`${base}${t.body.url}`);
    expect(again.status).toBe(401);
  });
});
