import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expireDue } from "../../central/lifecycle/index.ts";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";

/**
 * Random interleavings of driver requests, charger events (late, duplicated, out of order, with
 * skewed clocks), faults, presence changes and time, checked against Central's invariants after
 * every step. fast-check shrinks any failure to a minimal sequence.
 */
const CPS = ["cp-0", "cp-1", "cp-2"] as const;
const TTL_MS = 60_000;
const SKEW_MS = 5_000;

type Action =
  | { kind: "reserve"; driver: number; cp: number | null }
  | { kind: "start" | "stop" | "cancel"; res: number }
  | { kind: "started"; res: number; cp: number; skewMs: number }
  | { kind: "meter"; res: number; cp: number; energyWh: number }
  | { kind: "stopped"; res: number; cp: number; meterStopWh: number }
  | { kind: "fault" | "cleared"; cp: number }
  | { kind: "presence"; cp: number; online: boolean }
  | { kind: "replay"; which: number }
  | { kind: "advance"; ms: number }
  | { kind: "sweep" };

const cp = fc.integer({ min: 0, max: CPS.length - 1 });
const res = fc.nat({ max: 7 });
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
// Weighted towards the steps that build up state (reserve, start, time, sweep) so that short
// sequences reach the interesting interleavings often.
const action: fc.Arbitrary<Action> = fc.oneof(
  w(5, fc.record({ kind: fc.constant("reserve" as const), driver: fc.nat({ max: 2 }), cp: fc.option(cp, { nil: null }) })),
  w(3, fc.record({ kind: fc.constantFrom("start" as const, "stop" as const, "cancel" as const), res })),
  w(4, fc.record({ kind: fc.constant("started" as const), res, cp, skewMs: fc.integer({ min: -120_000, max: 10_000 }) })),
  w(1, fc.record({ kind: fc.constant("meter" as const), res, cp, energyWh: fc.integer({ min: 0, max: 5_000 }) })),
  w(2, fc.record({ kind: fc.constant("stopped" as const), res, cp, meterStopWh: fc.integer({ min: 0, max: 5_000 }) })),
  w(1, fc.record({ kind: fc.constantFrom("fault" as const, "cleared" as const), cp })),
  w(1, fc.record({ kind: fc.constant("presence" as const), cp, online: fc.boolean() })),
  w(2, fc.record({ kind: fc.constant("replay" as const), which: fc.nat() })),
  w(4, fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 90_000 }) })),
  w(4, fc.constant({ kind: "sweep" as const })),
);

describe("Central invariants under random event orders (fast-check)", () => {
  let h: CentralHarness;
  beforeAll(async () => {
    h = await createCentralHarness({ RESERVATION_TTL_SECONDS: String(TTL_MS / 1000), CLOCK_SKEW_TOLERANCE_SECONDS: String(SKEW_MS / 1000) });
  });
  afterAll(async () => h?.close());

  async function snapshot(): Promise<string> {
    const q = async (sql: string) => JSON.stringify(await h.db.query(sql));
    return [
      await q("SELECT cp_id, status, online, fault_code FROM charge_points ORDER BY cp_id"),
      await q("SELECT reservation_id, status, started_at, ended_at, end_reason FROM reservations ORDER BY reservation_id"),
      await q("SELECT session_id, energy_wh, stopped_at, meter_last_wh FROM sessions ORDER BY session_id"),
      await q("SELECT count(*) FROM commands"),
    ].join("\n");
  }

  async function checkInvariants(now: number, swept: boolean): Promise<void> {
    const live = await h.db.query<{ cp_id: string; n: number }>(
      "SELECT cp_id, count(*)::int AS n FROM reservations WHERE status IN ('reserved', 'charging') GROUP BY cp_id",
    );
    for (const row of live) expect(row.n, `live reservations on ${row.cp_id}`).toBeLessThanOrEqual(1);

    const inconsistent = await h.db.query(
      `SELECT cp.cp_id, cp.status FROM charge_points cp
        WHERE (cp.status = 'reserved' AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.cp_id = cp.cp_id AND r.status = 'reserved'))
           OR (cp.status = 'charging' AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.cp_id = cp.cp_id AND r.status = 'charging'))`,
    );
    expect(inconsistent, "charge point status matches its live reservation").toEqual([]);

    if (swept) {
      const overdue = await h.db.query("SELECT reservation_id FROM reservations WHERE status = 'reserved' AND expires_at <= $1", [new Date(now)]);
      expect(overdue, "reserved past expiry after a sweep").toEqual([]);
    }
    const negative = await h.db.query("SELECT session_id FROM sessions WHERE energy_wh < 0");
    expect(negative).toEqual([]);
  }

  it("holds for every sequence", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 30 }), async (actions) => {
        await h.reset();
        for (const id of CPS) await h.provision(id);
        const drivers = [await h.driver("A"), await h.driver("B"), await h.driver("C")];
        const reservations: { id: string; driver: string; token: string; cpId: string }[] = [];
        const sent: { cpId: string; type: string; fields: Record<string, unknown>; id: string; ts: Date }[] = [];
        const emit = async (cpId: string, type: string, fields: Record<string, unknown>, ts = new Date(h.clock.now())) => {
          const id = await h.emit(cpId, type, fields, { ts });
          sent.push({ cpId, type, fields, id, ts });
        };
        const resAt = (i: number) => reservations[i % Math.max(1, reservations.length)];

        for (const a of actions) {
          let swept = false;
          switch (a.kind) {
            case "reserve": {
              const d = drivers[a.driver]!;
              const r = await h.request("POST", "/v1/reservations", d.token, a.cp === null ? {} : { cpId: CPS[a.cp]! });
              expect([201, 409]).toContain(r.status);
              if (r.status === 201) reservations.push({ id: r.body.reservationId, driver: d.driverId, token: d.token, cpId: r.body.cpId });
              break;
            }
            case "start":
            case "stop":
            case "cancel": {
              const r = resAt(a.res);
              if (!r) break;
              const [method, path] = a.kind === "cancel" ? ["DELETE", `/v1/reservations/${r.id}`] : ["POST", `/v1/reservations/${r.id}/${a.kind}`];
              const out = await h.request(method, path, r.token);
              expect([200, 202, 409]).toContain(out.status);
              break;
            }
            case "started": {
              const r = resAt(a.res);
              const cpId = r && a.cp === 0 ? r.cpId : CPS[a.cp]!;
              await emit(cpId, "charging_started", { reservationId: r?.id ?? "res_none", meterStartWh: 1000 }, new Date(h.clock.now() + a.skewMs));
              break;
            }
            case "meter": {
              const r = resAt(a.res);
              if (r) await emit(r.cpId, "meter", { reservationId: r.id, energyWh: a.energyWh, powerW: 7000 });
              break;
            }
            case "stopped": {
              const r = resAt(a.res);
              if (r) await emit(r.cpId, "charging_stopped", { reservationId: r.id, meterStopWh: a.meterStopWh, reason: "local" });
              break;
            }
            case "fault":
              await emit(CPS[a.cp]!, "fault", { code: "E1", message: "Broken" });
              break;
            case "cleared":
              await emit(CPS[a.cp]!, "fault_cleared", {});
              break;
            case "presence":
              await h.presence(CPS[a.cp]!, a.online);
              break;
            case "replay": {
              const m = sent[a.which % Math.max(1, sent.length)];
              if (!m) break;
              const before = await snapshot();
              await h.emit(m.cpId, m.type, m.fields, { id: m.id, ts: m.ts });
              expect(await snapshot(), "applying a message twice changes nothing").toBe(before);
              break;
            }
            case "advance":
              h.clock.advance(a.ms);
              break;
            case "sweep":
              while ((await expireDue(h.central.ctx)) > 0) {}
              swept = true;
              break;
          }
          await checkInvariants(h.clock.now(), swept);
        }
        void OPERATOR;
      }),
      { numRuns: 80 },
    );
  }, 240_000);
});
