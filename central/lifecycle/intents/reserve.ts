import { AppError } from "../../../platform/errors.ts";
import { newId } from "../../../protocol/index.ts";
import { pgErrorCode, UNIQUE_VIOLATION, type Sql } from "../../db/db.ts";
import { getChargePoint } from "../../store/charge-points.ts";
import type { ReservationRow } from "../../store/reservations.ts";
import { nowDate, type LifecycleRunner } from "../deps.ts";
import { anyReservable } from "../store/charge-points.ts";
import { reserveInOne, type ReserveRow } from "../store/reserve-in-one.ts";

export interface ReserveInput {
  driverId: string;
  cpId?: string | undefined;
}

/**
 * TRANSITIONS.reserve, in one statement (store/reserve-in-one.ts): one round trip and one commit
 * on the path that succeeds, where it used to be BEGIN, three statements and COMMIT. The
 * conditional UPDATE takes the row lock and re-checks the status, so of N concurrent requests for
 * one charge point exactly one wins; the partial unique index on live reservations backs that up.
 */
export async function reserve(deps: LifecycleRunner, input: ReserveInput): Promise<ReservationRow> {
  const now = nowDate(deps);
  const expiresAt = new Date(now.getTime() + deps.config.RESERVATION_TTL_SECONDS * 1000);
  try {
    const row = { reservationId: newId("res"), commandId: newId("cmd"), driverId: input.driverId, cpId: input.cpId, now, expiresAt };
    const reservation = await claimWithRetry(deps.db, row);
    if (!reservation) throw await notAvailable(deps.db, input.cpId);
    deps.metrics.reservations.inc({ outcome: "reserved" });
    deps.notifyOutbox();
    return reservation;
  } catch (error) {
    if (pgErrorCode(error) === UNIQUE_VIOLATION) {
      deps.metrics.reservations.inc({ outcome: "conflict" });
      throw new AppError("charge_point_not_available", "Charge point already has a live reservation");
    }
    if (error instanceof AppError) deps.metrics.reservations.inc({ outcome: error.code });
    throw error;
  }
}

/**
 * Without a cpId, SKIP LOCKED passes over charge points that concurrent requests hold locked at
 * this instant; if any of those requests then rolls back, the charge point was free after all.
 * So "none available" is answered only when no available row remains even counting locked ones,
 * with a few short retries while some do.
 */
async function claimWithRetry(sql: Sql, row: ReserveRow): Promise<ReservationRow | null> {
  for (let attempt = 0; ; attempt++) {
    const claimed = await reserveInOne(sql, row);
    if (claimed || row.cpId || attempt >= 3) return claimed;
    if (!(await anyReservable(sql))) return null;
    await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1)));
  }
}

async function notAvailable(tx: Sql, cpId: string | undefined): Promise<AppError> {
  if (!cpId) return new AppError("no_charge_point_available", "No charge point is available");
  const cp = await getChargePoint(tx, cpId);
  if (!cp) return new AppError("not_found", `Charge point '${cpId}' does not exist`);
  const why = cp.secret_hash === null ? "credentials revoked" : !cp.online ? "offline" : cp.status;
  return new AppError("charge_point_not_available", `Charge point '${cpId}' is not available (${why})`, {
    status: cp.status,
    online: cp.online,
  });
}
