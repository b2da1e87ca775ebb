import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../central/db/db.ts";
import { handleEventBatch, handleEventRecord } from "../../central/events/event-consumer.ts";
import type { BusRecord, ConsumedRecord, EventBus } from "../../platform/event-bus.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
import { createCentralHarness, type CentralHarness } from "../support/central-harness.ts";
import type { StoreFixture } from "./store.contract.ts";

/**
 * Issue 12 part 2: applying a batch in one transaction has the same outcome as applying its
 * records one by one. Random sequences of charger events (heartbeats, meters out of order,
 * starts, stops, statuses that reconcile, faults, command results, presence, duplicates inside
 * and across batches, unknown chargers, undecodable records) go through both paths from the same
 * seeded state; every row they can touch must come out the same, and so must the dead letters.
 */
const CPS = ["cp-0", "cp-1", "cp-2"] as const;
const RES = ["res-0", "res-1", "res-2", "res-3"] as const;
const T0 = Date.parse("2026-06-01T12:00:00Z");

type Ev =
  | { t: "heartbeat" | "fault" | "fault_cleared"; cp: number }
  | { t: "boot"; cp: number; origin: number }
  | { t: "meter"; cp: number; res: number; wh: number; dt: number }
  | { t: "status"; cp: number; status: "available" | "charging" | "reserved" | "faulted" | "unavailable"; dt: number; origin: number }
  | { t: "started"; cp: number; res: number; dt: number }
  | { t: "stopped"; cp: number; res: number; wh: number }
  | { t: "result"; accepted: boolean }
  | { t: "presence"; cp: number; online: boolean; dt: number }
  | { t: "dup"; which: number }
  | { t: "unknown" }
  | { t: "garbage" };

const cp = fc.nat({ max: CPS.length - 1 });
const res = fc.nat({ max: RES.length - 1 });
const dt = fc.integer({ min: -20_000, max: 20_000 });
/** The gateway's envelope facts (transport, box, connector), or none as from an older gateway. */
const ORIGINS = [
  {},
  { transport: "mqtt" },
  { transport: "ocpp1.6", chargeBox: "box-a", connectorId: 1 },
  { transport: "ocpp1.6", chargeBox: "box-a", connectorId: 2 },
] as const;
const origin = fc.nat({ max: ORIGINS.length - 1 });
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const ev: fc.Arbitrary<Ev> = fc.oneof(
  w(4, fc.record({ t: fc.constant("heartbeat" as const), cp })),
  w(5, fc.record({ t: fc.constant("meter" as const), cp, res, wh: fc.integer({ min: 0, max: 9_000 }), dt: fc.constantFrom(-5_000, 0, 0, 5_000, 10_000) })),
  w(2, fc.record({ t: fc.constant("status" as const), cp, status: fc.constantFrom("available", "charging", "reserved", "faulted", "unavailable"), dt, origin })),
  w(2, fc.record({ t: fc.constant("started" as const), cp, res, dt })),
  w(2, fc.record({ t: fc.constant("stopped" as const), cp, res, wh: fc.integer({ min: 0, max: 9_000 }) })),
  w(1, fc.record({ t: fc.constantFrom("fault" as const, "fault_cleared" as const), cp })),
  w(1, fc.record({ t: fc.constant("boot" as const), cp, origin })),
  w(1, fc.record({ t: fc.constant("result" as const), accepted: fc.boolean() })),
  w(1, fc.record({ t: fc.constant("presence" as const), cp, online: fc.boolean(), dt })),
  w(3, fc.record({ t: fc.constant("dup" as const), which: fc.nat() })),
  w(1, fc.constant({ t: "unknown" as const })),
  w(1, fc.constant({ t: "garbage" as const })),
);

function toRecords(events: Ev[]): ConsumedRecord[] {
  const out: ConsumedRecord[] = [];
  const ups: ConsumedRecord[] = [];
  const up = (cpId: string, type: string, id: string, ts: number, fields: Record<string, unknown>, envelope: object = {}): string =>
    JSON.stringify({ kind: "up", cpId, type, gatewayId: "gw", receivedAt: new Date(T0).toISOString(), ...envelope, payload: { id, ts: new Date(ts).toISOString(), ...fields } });
  events.forEach((e, i) => {
    const id = `m-${i}`;
    let key: string = "cp-x";
    let value: string;
    switch (e.t) {
      case "heartbeat":
        value = up((key = CPS[e.cp]!), "heartbeat", id, T0, {});
        break;
      case "boot":
        value = up((key = CPS[e.cp]!), "boot", id, T0, { vendor: `v${i}`, model: "m", firmware: "f" }, ORIGINS[e.origin]);
        break;
      case "fault":
        value = up((key = CPS[e.cp]!), "fault", id, T0, { code: `E${i}`, message: "broken" });
        break;
      case "fault_cleared":
        value = up((key = CPS[e.cp]!), "fault_cleared", id, T0, {});
        break;
      case "meter":
        value = up((key = CPS[e.cp]!), "meter", id, T0 + e.dt, { reservationId: RES[e.res]!, energyWh: e.wh, powerW: 7_000 + i });
        break;
      case "status":
        value = up((key = CPS[e.cp]!), "status", id, T0 + e.dt, { status: e.status }, ORIGINS[e.origin]);
        break;
      case "started":
        value = up((key = CPS[e.cp]!), "charging_started", id, T0 + e.dt, { reservationId: RES[e.res]!, meterStartWh: 1_000 });
        break;
      case "stopped":
        value = up((key = CPS[e.cp]!), "charging_stopped", id, T0, { reservationId: RES[e.res]!, meterStopWh: e.wh, reason: "local" });
        break;
      case "result":
        value = up((key = "cp-0"), "command_result", id, T0, { commandId: "cmd-0", accepted: e.accepted, ...(e.accepted ? {} : { reason: "busy" }) });
        break;
      case "presence":
        key = CPS[e.cp]!;
        value = JSON.stringify({ kind: "presence", cpId: key, online: e.online, gatewayId: "gw", at: new Date(T0 + e.dt).toISOString() });
        break;
      case "dup": {
        const again = ups[e.which % Math.max(1, ups.length)];
        if (!again) return;
        key = again.key;
        value = again.value;
        break;
      }
      case "unknown":
        value = up("cp-x", "heartbeat", id, T0, {});
        break;
      case "garbage":
        value = "{ not json";
        break;
    }
    const record: ConsumedRecord = { topic: "events", partition: 0, offset: String(out.length), timestamp: T0, key, value };
    out.push(record);
    if (e.t !== "garbage" && e.t !== "presence") ups.push(record);
  });
  return out;
}

/** A state where every kind of event has something to act on, with ids fixed so both runs compare. */
async function seed(db: Db): Promise<void> {
  const at = (ms: number) => new Date(T0 + ms);
  await db.query("INSERT INTO drivers (driver_id, name, created_at) VALUES ('drv-0', 'Ada', $1)", [at(-600_000)]);
  for (const [id, status] of [["cp-0", "reserved"], ["cp-1", "charging"], ["cp-2", "available"]] as const) {
    await db.query(
      "INSERT INTO charge_points (cp_id, status, online, secret_hash, created_at, presence_at) VALUES ($1, $2, true, 'h', $3, $3)",
      [id, status, at(-600_000)],
    );
  }
  const r = (id: string, cpId: string, status: string, created: number, expires: number, started: number | null) =>
    db.query(
      "INSERT INTO reservations (reservation_id, cp_id, driver_id, status, created_at, expires_at, started_at) VALUES ($1, $2, 'drv-0', $3, $4, $5, $6)",
      [id, cpId, status, at(created), at(expires), started === null ? null : at(started)],
    );
  await r("res-0", "cp-0", "reserved", -60_000, 60_000, null);
  await r("res-1", "cp-1", "charging", -300_000, -180_000, -240_000);
  await r("res-2", "cp-2", "expired", -200_000, -10_000, null); // a start by the charger's clock before -10 s is honoured late
  await r("res-3", "cp-2", "cancelled", -400_000, -300_000, null);
  await db.query(
    `INSERT INTO sessions (session_id, reservation_id, cp_id, driver_id, meter_start_wh, started_at, late, energy_wh)
     VALUES ('ses-1', 'res-1', 'cp-1', 'drv-0', 500, $1, false, 0)`,
    [at(-240_000)],
  );
  await db.query(
    `INSERT INTO commands (command_id, cp_id, type, payload, created_at) VALUES ('cmd-0', 'cp-0', 'reserve', $1::text::jsonb, $2)`,
    [JSON.stringify({ id: "cmd-0", ts: at(-60_000).toISOString(), reservationId: "res-0", expiresAt: at(60_000).toISOString() }), at(-60_000)],
  );
}

async function snapshot(db: Db): Promise<unknown> {
  return {
    chargePoints: await db.query(
      `SELECT cp_id, status, online, presence_at, last_seen_at, reported_status, reported_at, vendor, fault_code, fault_message,
              conflict_kind, conflict_detail, conflict_at, transport, charge_box, connector_id FROM charge_points ORDER BY cp_id`,
    ),
    reservations: await db.query("SELECT * FROM reservations ORDER BY reservation_id"),
    // session ids are generated; the reservation names the session
    sessions: await db.query(
      `SELECT reservation_id, cp_id, meter_start_wh, meter_last_wh, meter_at, power_w, meter_stop_wh, energy_wh, started_at,
              stopped_at, stop_reason, late FROM sessions ORDER BY reservation_id`,
    ),
    commands: await db.query(
      "SELECT cp_id, type, payload->>'reservationId' AS reservation_id, status, result_reason FROM commands ORDER BY seq",
    ),
    processed: await db.query("SELECT cp_id, message_id, type, processed_at FROM processed_messages ORDER BY cp_id, message_id"),
  };
}

export function eventBatchContract(name: string, fixture: () => StoreFixture, numRuns: number): void {
  describe(`Batched events = one by one (fast-check): ${name}`, () => {
    let fx: StoreFixture;
    let db: Db;
    let h: CentralHarness;
    const inner = new InProcessBus();
    let letters: string[] = [];
    // Central's real bus, watched: the dead letters each path sends are part of the outcome.
    const bus: EventBus = {
      kind: inner.kind,
      publish: async (topic: string, records: BusRecord[]) => {
        letters.push(...records.map((r) => `${topic}:${JSON.parse(r.value).raw}`));
        await inner.publish(topic, records);
      },
      subscribe: inner.subscribe.bind(inner),
      health: inner.health.bind(inner),
      close: inner.close.bind(inner),
    };

    beforeAll(async () => {
      fx = fixture();
      db = await fx.open();
      h = await createCentralHarness({ RESERVATION_TTL_SECONDS: "60", CLOCK_SKEW_TOLERANCE_SECONDS: "5" }, db);
    });
    afterAll(async () => {
      await h?.close();
      await inner.close();
      if (db) await fx.close(db);
    });

    /** Events applied (by type) and duplicates dropped, as Central counts them. */
    async function counts(): Promise<Record<string, number>> {
      const m = h.central.ctx.metrics;
      const out: Record<string, number> = { duplicate: (await m.eventsDuplicate.get()).values[0]?.value ?? 0 };
      for (const v of (await m.eventsApplied.get()).values) out[String(v.labels.type)] = v.value;
      return out;
    }

    async function run(apply: (records: ConsumedRecord[]) => Promise<void>, records: ConsumedRecord[]) {
      await h.reset();
      await seed(db);
      letters = [];
      const before = await counts();
      await apply(records);
      const after = await counts();
      const counted = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));
      return { state: await snapshot(db), letters: [...letters], counted };
    }

    it("gives the same rows and dead letters for every sequence and every split into batches", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(ev, { minLength: 1, maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 10 }), async (events, sizes) => {
          const records = toRecords(events);
          const ctx = h.central.ctx;
          const single = await run(async (rs) => {
            for (const r of rs) await handleEventRecord(ctx, bus, r);
          }, records);
          const batched = await run(async (rs) => {
            for (let i = 0, k = 0; i < rs.length; k++) {
              const size = sizes[k % sizes.length]!;
              await handleEventBatch(ctx, bus, rs.slice(i, i + size));
              i += size;
            }
          }, records);
          expect(batched).toEqual(single);
        }),
        { numRuns },
      );
    }, 300_000);
  });
}
