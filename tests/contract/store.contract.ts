import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../central/db/db.ts";
import { migrate, MIGRATIONS } from "../../central/db/migrations.ts";
import { expireDue, insertChargePoint, reserve } from "../../central/lifecycle/index.ts";
import { enqueueCommand, leaseUnpublished, markAndLease, markPublished, releaseLeases, renewLease } from "../../central/store/commands.ts";
import { ManualClock } from "../../platform/clock.ts";
import { insertDriver } from "../../central/store/drivers.ts";
import { markProcessed } from "../../central/store/processed-messages.ts";
import { getOrInitSetting } from "../../central/store/settings.ts";
import { createCentralHarness, type CentralHarness } from "../support/central-harness.ts";
import { chargePointLinkCases } from "./charge-point-link.contract.ts";
import { lifecycleTableCases } from "./lifecycle-table.contract.ts";

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

    describe("lifecycle transition table", () => lifecycleTableCases(() => h));
    describe("charge point transport and connector (issue 13)", () => chargePointLinkCases(() => h, () => db));

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
      const counts = await Promise.all([1, 2, 3].map(() => expireDue(h.central.ctx, 3)));
      let total = counts.reduce((a, b) => a + b, 0);
      while (total < 10) {
        const more = await expireDue(h.central.ctx);
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
      const first = await leaseUnpublished(db, now, 30_000, 2, "pub-a");
      expect(ids(first)).toEqual(["o-0", "o-1"]);
      // cp-o's o-2 waits behind the commands another publisher holds; cp-p's are free to go
      const second = await leaseUnpublished(db, now, 30_000, 10, "pub-b");
      expect(ids(second)).toEqual(["p-0", "p-1"]);
      expect(await leaseUnpublished(db, now, 30_000, 10, "pub-c")).toHaveLength(0);
      expect(await markPublished(db, first.map((c) => c.command_id), now, "pub-a")).toBe(2);
      expect(ids(await leaseUnpublished(db, now, 30_000, 10, "pub-c"))).toEqual(["o-2"]);
      // an expired lease (a publisher that died) makes its commands visible again
      const later = new Date(now.getTime() + 31_000);
      expect(ids(await leaseUnpublished(db, later, 30_000, 10, "pub-d"))).toEqual(["o-2", "p-0", "p-1"]);
    });

    it("hands a dead publisher's commands to the next one together with what followed them, in order", async () => {
      const now = new Date();
      await enqueueCommand(db, "cp-q", "reserve", { reservationId: "q-0", expiresAt: now.toISOString() }, now);
      await enqueueCommand(db, "cp-q", "cancel_reservation", { reservationId: "q-0" }, now);
      const ids = (rows: { type: string }[]) => rows.map((c) => c.type);
      // a publisher leases the reserve, then dies; its lease runs out
      expect(ids(await leaseUnpublished(db, now, 1_000, 1, "pub-a"))).toEqual(["reserve"]);
      const later = new Date(now.getTime() + 2_000);
      // whoever comes next takes both, in order: the cancel never goes out alone, ahead of the reserve
      expect(ids(await leaseUnpublished(db, later, 30_000, 10, "pub-b"))).toEqual(["reserve", "cancel_reservation"]);
    });

    it("marks a published batch and leases the next in one statement, a charger's next command right behind its last", async () => {
      const now = new Date();
      await enqueueCommand(db, "cp-r", "reserve", { reservationId: "r-0", expiresAt: now.toISOString() }, now);
      await enqueueCommand(db, "cp-r", "cancel_reservation", { reservationId: "r-0" }, now);
      await enqueueCommand(db, "cp-s", "stop", { reservationId: "s-0" }, now);
      const types = (rows: { cp_id: string; type: string }[]) => rows.map((c) => `${c.cp_id}:${c.type}`);
      const first = await leaseUnpublished(db, now, 30_000, 1, "pub-a");
      expect(types(first)).toEqual(["cp-r:reserve"]);
      // B takes only cp-s: cp-r's cancel waits behind A's reserve
      const b = await leaseUnpublished(db, now, 30_000, 10, "pub-b");
      expect(types(b)).toEqual(["cp-s:stop"]);
      // A marks its reserve and, in the same statement, gets the cancel that waited behind it
      const next = await markAndLease(db, first.map((c) => c.command_id), now, 30_000, 10, "pub-a");
      expect(next.marked).toBe(1);
      expect(types(next.leased)).toEqual(["cp-r:cancel_reservation"]);
      // B's row is B's to mark: A marks nothing of it, and what A holds is no one else's
      const again = await markAndLease(db, b.map((c) => c.command_id), now, 30_000, 10, "pub-a");
      expect(again).toEqual({ marked: 0, leased: [] });
      expect(await leaseUnpublished(db, now, 30_000, 10, "pub-c")).toEqual([]);
      const last = await markAndLease(db, next.leased.map((c) => c.command_id), now, 30_000, 10, "pub-a");
      expect(last).toEqual({ marked: 1, leased: [] });
      expect(await markPublished(db, b.map((c) => c.command_id), now, "pub-b")).toBe(1);
      expect((await db.query("SELECT count(*)::int AS n FROM commands WHERE published_at IS NULL"))[0]!.n).toBe(0);
    });

    describe("outbox leases held by a live publisher and taken over from a dead one", () => {
      const LEASE = 5_000;
      const types = (rows: { type: string }[]) => rows.map((c) => c.type);
      let clock: ManualClock;
      const at = () => new Date(clock.now());
      const lease = (owner: string, limit = 10) => leaseUnpublished(db, at(), LEASE, limit, owner);
      beforeEach(async () => {
        clock = new ManualClock();
        // cp-l: reserve then start, the charger; cp-m: another charger's command
        await enqueueCommand(db, "cp-l", "reserve", { reservationId: "l-0", expiresAt: at().toISOString() }, at());
        await enqueueCommand(db, "cp-l", "start", { reservationId: "l-0" }, at());
        await enqueueCommand(db, "cp-m", "stop", { reservationId: "m-0" }, at());
      });

      it("keeps B out while A's lease runs, however long A's publish takes, as long as A renews", async () => {
        const a = await lease("pub-a", 1);
        expect(types(a)).toEqual(["reserve"]);
        // B gets only the other charger: cp-l's start waits behind A's reserve
        const b = await lease("pub-b");
        expect(types(b)).toEqual(["stop"]);
        expect(await markPublished(db, b.map((c) => c.command_id), at(), "pub-b")).toBe(1);
        for (let i = 0; i < 12; i++) {
          clock.advance(1_000); // a minute of renewals would do the same: A's publish waits for Kafka
          expect(await renewLease(db, a.map((c) => c.command_id), "pub-a", at(), LEASE)).toEqual(a.map((c) => c.command_id));
          expect(await lease("pub-c")).toEqual([]);
        }
        expect(await markPublished(db, a.map((c) => c.command_id), at(), "pub-a")).toBe(1);
        // A's reserve is out: the start it held back goes to whoever asks next
        expect(types(await lease("pub-c"))).toEqual(["start"]);
      });

      it("gives a dead publisher's commands to B within one lease, with what followed them, in order", async () => {
        const a = await lease("pub-a", 1);
        expect(types(a)).toEqual(["reserve"]);
        clock.advance(LEASE - 1);
        expect(await lease("pub-b", 1)).toHaveLength(0); // cp-m's stop aside, nothing: cp-l is A's
        // A died: no renewal; one lease later B takes the reserve and the start behind it
        clock.advance(1);
        const b = await lease("pub-b");
        expect(b.map((c) => `${c.cp_id}:${c.type}`)).toEqual(["cp-l:reserve", "cp-l:start", "cp-m:stop"]);
        expect(b.every((c) => c.claimed_by === "pub-b")).toBe(true);
      });

      it("tells A it lost the claim, and A's late mark neither counts nor lets a charger's order slip", async () => {
        const a = await lease("pub-a", 1);
        clock.advance(LEASE); // A stalled past its lease (database out of reach); B takes over
        const b = await lease("pub-b");
        expect(types(b)).toEqual(["reserve", "start", "stop"]);
        // A's renewal finds none of its rows: it knows it lost them and abandons its publish
        expect(await renewLease(db, a.map((c) => c.command_id), "pub-a", at(), LEASE)).toEqual([]);
        // Were A's publish done already, its mark changes nothing: the rows are B's to mark
        expect(await markPublished(db, a.map((c) => c.command_id), at(), "pub-a")).toBe(0);
        const [reserveRow] = await db.query<{ published_at: Date | null; claimed_by: string }>(
          "SELECT published_at, claimed_by FROM commands WHERE command_id = $1",
          [a[0]!.command_id],
        );
        expect(reserveRow).toEqual({ published_at: null, claimed_by: "pub-b" });
        // B still holds everything (its renewal finds all of it) and nobody else gets cp-l's start
        expect(await renewLease(db, b.map((c) => c.command_id), "pub-b", at(), LEASE)).toHaveLength(3);
        expect(await lease("pub-c")).toEqual([]);
        expect(await markPublished(db, b.map((c) => c.command_id), at(), "pub-b")).toBe(3);
      });

      it("hands back a stopping publisher's leases at once", async () => {
        const a = await lease("pub-a");
        expect(types(a)).toEqual(["reserve", "start", "stop"]);
        expect(await releaseLeases(db, "pub-a")).toBe(3);
        expect(types(await lease("pub-b"))).toEqual(["reserve", "start", "stop"]);
        expect(await releaseLeases(db, "pub-a")).toBe(0); // another's claims are not A's to release
      });
    });
  });
}
