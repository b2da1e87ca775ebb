import { expect, it } from "vitest";
import {
  cancel,
  cancelByDriver,
  expireDue,
  reconcile,
  requestStart,
  requestStop,
  reserve,
  reserveRefused,
  returnToService,
  started,
  stopped,
  takeOutOfService,
  TRANSITIONS,
  type LifecycleEvent,
  type Transition,
} from "../../central/lifecycle/index.ts";
import type { Sql } from "../../central/db/db.ts";
import type { CentralHarness } from "../support/central-harness.ts";

/**
 * TRANSITIONS, row by row, through the real store: each case builds a start state with the real
 * REST API and charger events, applies the row's intent, and checks the new state and effects
 * against what the row itself says (reservation state, charge-point state, session, outbox
 * command). Run on PGlite and PostgreSQL through tests/contract/store.contract.ts.
 */
const CP = "cp-lc";

interface World {
  h: CentralHarness;
  driverId: string;
  token: string;
  /** The reservation the case acts on, if any. */
  resId: string | null;
  now(): Date;
  tx<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

interface Case {
  event: LifecycleEvent;
  name: string;
  setup(w: World): Promise<void>;
  act(w: World): Promise<unknown>;
}

async function reserved(w: World): Promise<void> {
  const r = await w.h.request("POST", "/v1/reservations", w.token, { cpId: CP });
  if (r.status !== 201) throw new Error(`reserve failed: ${JSON.stringify(r.body)}`);
  w.resId = r.body.reservationId;
}

async function charging(w: World): Promise<void> {
  await reserved(w);
  await w.h.emit(CP, "charging_started", { reservationId: w.resId, meterStartWh: 1000 });
  await w.h.emit(CP, "meter", { reservationId: w.resId, energyWh: 1400, powerW: 7000 });
}

async function expired(w: World): Promise<void> {
  await reserved(w);
  w.h.clock.advance(61_000);
  if ((await expireDue(w.h.central.ctx)) !== 1) throw new Error("setup: expiry did not roll back");
}

const settle = (w: World) => w.h.clock.advance(10_000);
const startedEvent = (w: World, eventTime = w.now()) => ({ cpId: CP, reservationId: w.resId!, meterStartWh: 1000, eventTime, now: w.now() });

export const LIFECYCLE_CASES: Case[] = [
  { event: "reserve", name: "an available charge point", setup: async () => {}, act: async (w) => (w.resId = (await reserve(w.h.central.ctx, { driverId: w.driverId, cpId: CP })).reservation_id) },
  { event: "requestStart", name: "a live reservation", setup: reserved, act: (w) => requestStart(w.h.central.ctx, w.driverId, w.resId!) },
  { event: "requestStop", name: "a session in progress", setup: charging, act: (w) => requestStop(w.h.central.ctx, w.driverId, w.resId!) },
  { event: "started", name: "a live reservation", setup: reserved, act: (w) => w.tx((tx) => started(tx, w.h.central.ctx, startedEvent(w))) },
  {
    event: "startedLate",
    name: "an expired reservation whose start came before its expiry",
    setup: expired,
    act: (w) => w.tx((tx) => started(tx, w.h.central.ctx, startedEvent(w, new Date(w.now().getTime() - 5_000)))),
  },
  {
    event: "startRefused",
    name: "a cancelled reservation",
    setup: async (w) => {
      await reserved(w);
      await cancelByDriver(w.h.central.ctx, w.driverId, w.resId!);
    },
    act: (w) => w.tx((tx) => started(tx, w.h.central.ctx, startedEvent(w))),
  },
  {
    event: "stopped",
    name: "a session in progress",
    setup: charging,
    act: (w) => w.tx((tx) => stopped(tx, w.h.central.ctx, { cpId: CP, reservationId: w.resId!, meterStopWh: 2500, reason: "remote", eventTime: w.now(), now: w.now() })),
  },
  { event: "expire", name: "a reservation past its expiry", setup: async (w) => { await reserved(w); w.h.clock.advance(60_000); }, act: (w) => expireDue(w.h.central.ctx) },
  { event: "cancelByDriver", name: "a live reservation", setup: reserved, act: (w) => cancelByDriver(w.h.central.ctx, w.driverId, w.resId!) },
  { event: "cancelReserveRefused", name: "a reservation the charger refused", setup: reserved, act: (w) => w.tx((tx) => reserveRefused(tx, w.resId!, "rejected", "busy", w.now())) },
  { event: "cancelPreempted", name: "a reservation a late start displaces", setup: reserved, act: (w) => w.tx((tx) => cancel(tx, "cancelPreempted", w.resId!, w.now())) },
  { event: "cancelFaulted", name: "a live reservation on a faulting charger", setup: reserved, act: (w) => w.tx((tx) => takeOutOfService(tx, w.h.central.ctx, CP, "faulted", w.now())) },
  { event: "cancelUnavailable", name: "a live reservation on a charger going unavailable", setup: reserved, act: (w) => w.tx((tx) => takeOutOfService(tx, w.h.central.ctx, CP, "unavailable", w.now())) },
  { event: "takeOutOfServiceFaulted", name: "a session in progress", setup: charging, act: (w) => w.tx((tx) => takeOutOfService(tx, w.h.central.ctx, CP, "faulted", w.now())) },
  { event: "takeOutOfServiceUnavailable", name: "no reservation", setup: async () => {}, act: (w) => w.tx((tx) => takeOutOfService(tx, w.h.central.ctx, CP, "unavailable", w.now())) },
  {
    event: "returnToService",
    name: "a faulted charger with no session",
    setup: async (w) => w.tx((tx) => takeOutOfService(tx, w.h.central.ctx, CP, "faulted", w.now())),
    act: (w) => w.tx((tx) => returnToService(tx, CP, ["faulted"])),
  },
  {
    event: "returnToService",
    name: "a faulted charger whose session is still live",
    setup: async (w) => {
      await charging(w);
      await w.tx((tx) => takeOutOfService(tx, w.h.central.ctx, CP, "faulted", w.now()));
    },
    act: (w) => w.tx((tx) => returnToService(tx, CP, ["faulted"])),
  },
  {
    event: "reconcileReservationLost",
    name: "the charger reports available under a settled live reservation",
    setup: async (w) => { await reserved(w); settle(w); },
    act: (w) => w.tx((tx) => reconcile(tx, w.h.central.ctx, { cpId: CP, status: "available", eventTime: w.now(), now: w.now() })),
  },
  {
    event: "reconcileSessionLost",
    name: "the charger reports available under a settled session",
    setup: async (w) => { await charging(w); settle(w); },
    act: (w) => w.tx((tx) => reconcile(tx, w.h.central.ctx, { cpId: CP, status: "available", eventTime: w.now(), now: w.now() })),
  },
  {
    event: "reconcileChargerBusy",
    name: "the charger reports charging under a reservation not started",
    setup: reserved,
    act: (w) => w.tx((tx) => reconcile(tx, w.h.central.ctx, { cpId: CP, status: "charging", eventTime: w.now(), now: w.now() })),
  },
  {
    event: "reconcileBusyNoReservation",
    name: "the charger reports charging with no reservation",
    setup: async () => {},
    act: (w) => w.tx((tx) => reconcile(tx, w.h.central.ctx, { cpId: CP, status: "charging", eventTime: w.now(), now: w.now() })),
  },
];

interface Observed {
  reservation: string;
  endReason: string | null;
  chargePoint: string;
  session: "none" | "open" | "closed";
  sessionEnergy: number | null;
  commands: string[];
}

async function observe(w: World): Promise<Observed> {
  const [cp] = await w.h.db.query<{ status: string }>("SELECT status FROM charge_points WHERE cp_id = $1", [CP]);
  const [r] = w.resId
    ? await w.h.db.query<{ status: string; end_reason: string | null }>("SELECT status, end_reason FROM reservations WHERE reservation_id = $1", [w.resId])
    : [];
  const [s] = w.resId
    ? await w.h.db.query<{ stopped_at: Date | null; energy_wh: number | null }>("SELECT stopped_at, energy_wh FROM sessions WHERE reservation_id = $1", [w.resId])
    : [];
  return {
    reservation: r?.status ?? "none",
    endReason: r?.end_reason ?? null,
    chargePoint: cp!.status,
    session: !s ? "none" : s.stopped_at ? "closed" : "open",
    sessionEnergy: s?.energy_wh ?? null,
    commands: (await w.h.commands(CP)).map((c) => c.type),
  };
}

/** What the row says the state after `before` is. */
function expected(row: Transition, before: Observed): Pick<Observed, "reservation" | "chargePoint" | "session"> & { newCommands: string[] } {
  const cpRule = row.chargePoint;
  const cpMoves = cpRule && (cpRule.from === "any" || (cpRule.from as readonly string[]).includes(before.chargePoint));
  const cpTo = cpRule?.to === "live" ? (before.session === "open" ? "charging" : "available") : cpRule?.to;
  const session = row.session === "open" ? "open" : row.session ? "closed" : before.session;
  return {
    reservation: row.reservation?.to ?? before.reservation,
    chargePoint: cpMoves ? cpTo! : before.chargePoint,
    session,
    newCommands: row.command ? [row.command] : [],
  };
}

export function lifecycleTableCases(harness: () => CentralHarness): void {
  it("has a case for every row of the transition table", () => {
    expect(new Set(LIFECYCLE_CASES.map((c) => c.event))).toEqual(new Set(Object.keys(TRANSITIONS)));
  });

  for (const c of LIFECYCLE_CASES) {
    it(`lifecycle ${c.event}: ${c.name}`, async () => {
      const h = harness();
      await h.provision(CP);
      const d = await h.driver();
      const w: World = { h, driverId: d.driverId, token: d.token, resId: null, now: () => new Date(h.clock.now()), tx: (fn) => h.db.transaction(fn) };
      await c.setup(w);
      const before = await observe(w);
      const row: Transition = TRANSITIONS[c.event];
      // the case really starts in a state the row applies to
      if (row.reservation) expect(row.reservation.from).toContain(before.reservation);
      await c.act(w);
      const after = await observe(w);
      const want = expected(row, before);
      expect({ reservation: after.reservation, chargePoint: after.chargePoint, session: after.session }).toEqual({
        reservation: want.reservation,
        chargePoint: want.chargePoint,
        session: want.session,
      });
      expect(after.commands).toEqual([...before.commands, ...want.newCommands]);
      if (row.endReason) expect(after.endReason?.startsWith(row.endReason)).toBe(true);
      if (row.session === "close_at_last_meter") expect(after.sessionEnergy).toBe(400); // the last meter, 1400 - 1000
      if (row.session === "close") expect(after.sessionEnergy).toBe(1500); // 2500 - 1000
    });
  }

  it("lifecycle refusals: a row's intent outside its `from` states changes nothing", async () => {
    const h = harness();
    await h.provision(CP);
    const d = await h.driver();
    const w: World = { h, driverId: d.driverId, token: d.token, resId: null, now: () => new Date(h.clock.now()), tx: (fn) => h.db.transaction(fn) };
    await charging(w);
    const before = await observe(w);
    await expect(cancelByDriver(h.central.ctx, d.driverId, w.resId!)).rejects.toMatchObject({ code: "invalid_state" });
    await expect(requestStart(h.central.ctx, d.driverId, w.resId!)).rejects.toMatchObject({ code: "invalid_state" });
    expect(await w.tx((tx) => cancel(tx, "cancelFaulted", w.resId!, w.now()))).toBeNull();
    h.clock.advance(600_000);
    expect(await expireDue(h.central.ctx)).toBe(0);
    expect(await observe(w)).toEqual(before);
  });
}
