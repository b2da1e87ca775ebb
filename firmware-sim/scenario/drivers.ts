import { delay } from "../../platform/backoff.ts";
import type { DriverPlan, Ledger, LedgerEntry, ReservationView } from "../hil/ledger.ts";
import type { Rest } from "../hil/rest.ts";
import type { Rng } from "./random.ts";
import type { Scenario } from "./schema.ts";

export interface DriverDeps {
  rest: Rest;
  ledger: Ledger;
  rng: Rng;
  drivers: Scenario["drivers"];
  graceMs: number;
  /** Charge points in scope that look free now (the monitor's latest view). */
  freeChargePoints(): string[];
  /** Aborted when the scenario enters its drain phase: charging drivers stop now. */
  drain: AbortSignal;
  /** Nobody waits past this (epoch ms). */
  deadline(): number;
}

/** What a driver decided on arrival, drawn up front so one seed gives one sequence of decisions. */
interface Intent {
  plan: DriverPlan;
  startDelayMs: number;
  chargeMs: number;
}

function intend(deps: DriverDeps): Intent {
  const d = deps.drivers;
  const r = deps.rng.next();
  const plan: DriverPlan = r < d.noShowFraction ? "no_show" : r < d.noShowFraction + d.cancelFraction ? "cancel" : "charge";
  return { plan, startDelayMs: deps.rng.uniform(d.startDelaySeconds) * 1000, chargeMs: deps.rng.uniform(d.chargeSeconds) * 1000 };
}

/**
 * One driver, through the REST API only: register, reserve a free charge point, then charge
 * (start, wait, stop), cancel, or never show up. Every reservation goes into the ledger; the
 * outcome counts are what the report shows. 4xx answers are part of the flow (another driver
 * was faster, a fault cancelled the reservation) and are counted, not thrown.
 */
export async function driverJourney(n: number, deps: DriverDeps): Promise<void> {
  const { rest, ledger } = deps;
  const intent = intend(deps);
  ledger.count("drivers_arrived");
  const reg = await rest.call<{ token: string }>("POST", "/v1/drivers", undefined, { name: `sim-driver-${n}` });
  if (reg.status !== 201) return ledger.count(`error_register_${reg.status}`);
  const token = reg.body.token;
  ledger.addDriver(token);

  const entry = await reserve(deps, token, intent.plan);
  if (!entry) return ledger.count("no_charge_point_free");
  if (intent.plan === "no_show") return ledger.count("no_shows");

  await delay(intent.startDelayMs);
  if (intent.plan === "cancel") {
    const res = await rest.call<ReservationView>("DELETE", `/v1/reservations/${entry.reservationId}`, token);
    if (res.status === 200) ledger.update(res.body);
    return ledger.count(res.status === 200 ? "cancelled_by_driver" : "cancel_refused");
  }

  const start = await rest.call("POST", `/v1/reservations/${entry.reservationId}/start`, token);
  if (start.status !== 202) {
    await refresh(deps, entry);
    return ledger.count("start_refused_by_central");
  }
  // Charging begins when the charger says so; until then Central's expiry still applies.
  const begun = await pollWhile(deps, entry, 250, (e) => e.status === "reserved", Date.parse(entry.expiresAt) + deps.graceMs + 5_000);
  if (begun.status !== "charging") return ledger.count(begun.status === "reserved" ? "start_unresolved" : "start_not_honoured");
  ledger.count("sessions_started");

  // Charge until the driver's time is up or the drain begins; the car may end it first (ev_full).
  const until = Date.now() + intent.chargeMs;
  await pollWhile(deps, entry, 1_000, (e) => e.status === "charging" && Date.now() < until && !deps.drain.aborted, until, deps.drain);
  if (entry.status === "charging") {
    const stop = await rest.call("POST", `/v1/reservations/${entry.reservationId}/stop`, token);
    if (stop.status !== 202 && stop.status !== 409) ledger.count(`error_stop_${stop.status}`);
    await pollWhile(deps, entry, 250, (e) => e.status === "charging", deps.deadline());
  }
}

async function reserve(deps: DriverDeps, token: string, plan: DriverPlan): Promise<LedgerEntry | undefined> {
  const tried = new Set<string>();
  for (let attempt = 0; attempt < 3; attempt++) {
    const cpId = deps.rng.pick(deps.freeChargePoints().filter((id) => !tried.has(id)));
    if (!cpId) return undefined;
    tried.add(cpId);
    const res = await deps.rest.call<ReservationView>("POST", "/v1/reservations", token, { cpId });
    if (res.status === 201) {
      deps.ledger.count("reservations_made");
      return deps.ledger.add(res.body, token, plan);
    }
    if (res.status !== 409) {
      deps.ledger.count(`error_reserve_${res.status}`);
      return undefined;
    }
    deps.ledger.count("reserve_lost_race");
  }
  return undefined;
}

export async function refresh(deps: Pick<DriverDeps, "rest" | "ledger">, entry: LedgerEntry): Promise<LedgerEntry> {
  const res = await deps.rest.call<ReservationView>("GET", `/v1/reservations/${entry.reservationId}`, entry.driverToken);
  if (res.status === 200) deps.ledger.update(res.body);
  return entry;
}

/** Re-reads the reservation every `everyMs` while `keepWaiting` holds, up to `until` (epoch ms). */
async function pollWhile(
  deps: DriverDeps,
  entry: LedgerEntry,
  everyMs: number,
  keepWaiting: (e: LedgerEntry) => boolean,
  until: number,
  interrupt?: AbortSignal,
): Promise<LedgerEntry> {
  const end = Math.min(until, deps.deadline());
  await refresh(deps, entry);
  while (keepWaiting(entry) && Date.now() < end) {
    await delay(Math.min(everyMs, Math.max(0, end - Date.now())), interrupt);
    await refresh(deps, entry);
  }
  return entry;
}
