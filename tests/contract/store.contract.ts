import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../central/db/db.ts";
import { migrate, MIGRATIONS } from "../../central/db/migrations.ts";
import { expireDueReservations } from "../../central/domain/expire-reservations.ts";
import { reserve } from "../../central/domain/reserve.ts";
import { insertChargePoint } from "../../central/store/charge-points.ts";
import { enqueueCommand, leaseUnpublished, markPublished } from "../../central/store/commands.ts";
import { insertDriver } from "../../central/store/drivers.ts";
import { markProcessed } from "../../central/store/processed-messages.ts";
import { getOrInitSetting } from "../../central/store/settings.ts";
import { createCentralHarness, type CentralHarness } from "../support/central-harness.ts";

export interface StoreFixture {
  open(): Promise<Db>;
  /** Drops what `open` created. */
  close(db: Db): Promise<void>;
}

/**
 * The contract every Store (database) implementation meets: PGlite for the embedded path and
 * PostgreSQL for production run the same SQL through it, so the same suite proves both.
 */
export function storeContract(name: string, fixture: () => StoreFixture): void {
  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let db: Db;
    let h: CentralHarness;

    beforeAll(async () => {
      fx = fixture();
      db = await fx.open();
      h = await createCentralHarness({ RESERVATION_TTL_SECONDS: "60" }, db);
    });
    afterAll(async () => {
      await h?.close();
      if (db) await fx.close(db);
    });
    beforeEach(async () => h.reset());

    it("migrates once, and again is a no-op", async () => {
      expect(await migrate(db)).toEqual([]);
      const rows = await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    });

    it("commits a transaction that resolves and rolls back one that throws", async () => {
      const now = new Date();
      await db.transaction((tx) => insertDriver(tx, "d-1", "One", now));
      await expect(
        db.transaction(async (tx) => {
          await insertDriver(tx, "d-2", "Two", now);
          throw new Error("Rolled back on purpose");
        }),
      ).rejects.toThrow("Rolled back on purpose");
      const rows = await db.query<{ driver_id: string }>("SELECT driver_id FROM drivers ORDER BY driver_id");
      expect(rows.map((r) => r.driver_id)).toEqual(["d-1"]);
    });

    it("returns timestamps as Dates and JSON as objects", async () => {
      const now = new Date("2026-06-01T12:00:00.123Z");
      await insertChargePoint(db, "cp-t", "hash", now);
      await enqueueCommand(db, "cp-t", "stop", { reservationId: "r-1" }, now);
      const [cp] = await db.query<{ created_at: Date }>("SELECT created_at FROM charge_points");
      expect(cp!.created_at).toBeInstanceOf(Date);
      expect(cp!.created_at.toISOString()).toBe(now.toISOString());
      const [cmd] = await db.query<{ payload: { reservationId: string } }>("SELECT payload FROM commands");
      expect(cmd!.payload.reservationId).toBe("r-1");
    });

    it("enforces one live reservation per charge point in the database itself", async () => {
      const now = new Date();
      await insertChargePoint(db, "cp-u", "hash", now);
      await insertDriver(db, "d-u", "U", now);
      const insert = (id: string) =>
        db.query(
          `INSERT INTO reservations (reservation_id, cp_id, driver_id, status, created_at, expires_at)
           VALUES ($1, 'cp-u', 'd-u', 'reserved', $2, $2)`,
          [id, now],
        );
      await insert("r-1");
      await expect(insert("r-2")).rejects.toMatchObject({ code: "23505" });
    });

    it("records a message id once", async () => {
      const now = new Date();
      expect(await markProcessed(db, "cp-1", "m-1", "heartbeat", now)).toBe(true);
      expect(await markProcessed(db, "cp-1", "m-1", "heartbeat", now)).toBe(false);
      expect(await markProcessed(db, "cp-2", "m-1", "heartbeat", now)).toBe(true);
    });

    it("gives every instance the same generated setting", async () => {
      const a = await getOrInitSetting(db, `k-${name}`, () => "first");
      const b = await getOrInitSetting(db, `k-${name}`, () => "second");
      expect([a, b]).toEqual(["first", "first"]);
    });

    it("books a charge point exactly once under 20 concurrent requests", async () => {
      await h.provision("cp-race");
      const drivers = await Promise.all(Array.from({ length: 20 }, (_, i) => h.driver(`D${i}`)));
      const results = await Promise.allSettled(drivers.map((d) => reserve(h.central.ctx, { driverId: d.driverId, cpId: "cp-race" })));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(refused.every((r) => r.reason.code === "charge_point_not_available")).toBe(true);
      const live = await db.query("SELECT 1 FROM reservations WHERE cp_id = 'cp-race' AND status IN ('reserved', 'charging')");
      expect(live).toHaveLength(1);
    });

    it("turns 200 concurrent requests for 50 charge points into exactly 50 reservations and 150 409s", async () => {
      for (let i = 0; i < 50; i++) await h.provision(`cp-m${String(i).padStart(2, "0")}`);
      const drivers = await Promise.all(Array.from({ length: 8 }, (_, i) => h.driver(`M${i}`)));
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          // half name a charge point (4 requests per charge point), half ask for any
          const body = i % 2 === 0 ? { cpId: `cp-m${String((i / 2) % 50).padStart(2, "0")}` } : {};
          return h.request("POST", "/v1/reservations", drivers[i % drivers.length]!.token, body);
        }),
      );
      const created = results.filter((r) => r.status === 201);
      expect(created).toHaveLength(50);
      expect(results.filter((r) => r.status === 409)).toHaveLength(150);
      expect(new Set(created.map((r) => r.body.cpId)).size).toBe(50);
      const live = await db.query("SELECT 1 FROM reservations WHERE status = 'reserved'");
      expect(live).toHaveLength(50);
    });

    it("rolls back each due reservation exactly once when sweepers race", async () => {
      for (let i = 0; i < 10; i++) await h.provision(`cp-e${i}`);
      const d = await h.driver();
      for (let i = 0; i < 10; i++) await reserve(h.central.ctx, { driverId: d.driverId, cpId: `cp-e${i}` });
      h.clock.advance(61_000);
      const counts = await Promise.all([1, 2, 3].map(() => expireDueReservations(h.central.ctx, 3)));
      let total = counts.reduce((a, b) => a + b, 0);
      while (total < 10) {
        const more = await expireDueReservations(h.central.ctx);
        if (more === 0) break;
        total += more;
      }
      expect(total).toBe(10);
      const cancels = await db.query("SELECT 1 FROM commands WHERE type = 'cancel_reservation'");
      expect(cancels).toHaveLength(10);
      const stuck = await db.query("SELECT 1 FROM charge_points WHERE status = 'reserved'");
      expect(stuck).toHaveLength(0);
    });

    it("leases unpublished commands in order and hides leased ones from other publishers", async () => {
      const now = new Date();
      for (let i = 0; i < 3; i++) await enqueueCommand(db, "cp-o", "stop", { reservationId: `o-${i}` }, now);
      for (let i = 0; i < 2; i++) await enqueueCommand(db, "cp-p", "stop", { reservationId: `p-${i}` }, now);
      const ids = (rows: { payload: unknown }[]) => rows.map((c) => (c.payload as { reservationId: string }).reservationId);
      const first = await leaseUnpublished(db, now, 30_000, 2);
      expect(ids(first)).toEqual(["o-0", "o-1"]);
      // cp-o's o-2 waits behind the commands another publisher holds; cp-p's are free to go
      const second = await leaseUnpublished(db, now, 30_000, 10);
      expect(ids(second)).toEqual(["p-0", "p-1"]);
      expect(await leaseUnpublished(db, now, 30_000, 10)).toHaveLength(0);
      await markPublished(db, first.map((c) => c.command_id), now);
      expect(ids(await leaseUnpublished(db, now, 30_000, 10))).toEqual(["o-2"]);
      // an expired lease (a publisher that died) makes its commands visible again
      const later = new Date(now.getTime() + 31_000);
      expect(ids(await leaseUnpublished(db, later, 30_000, 10))).toEqual(["o-2", "p-0", "p-1"]);
    });

    it("hands a dead publisher's commands to the next one together with what followed them, in order", async () => {
      const now = new Date();
      await enqueueCommand(db, "cp-q", "reserve", { reservationId: "q-0", expiresAt: now.toISOString() }, now);
      await enqueueCommand(db, "cp-q", "cancel_reservation", { reservationId: "q-0" }, now);
      const ids = (rows: { type: string }[]) => rows.map((c) => c.type);
      // a publisher leases the reserve, then dies; its lease runs out
      expect(ids(await leaseUnpublished(db, now, 1_000, 1))).toEqual(["reserve"]);
      const later = new Date(now.getTime() + 2_000);
      // whoever comes next takes both, in order: the cancel never goes out alone, ahead of the reserve
      expect(ids(await leaseUnpublished(db, later, 30_000, 10))).toEqual(["reserve", "cancel_reservation"]);
    });
  });
}
