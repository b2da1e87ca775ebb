import { AppError } from "../../platform/errors.ts";
import { newId } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { pgErrorCode, UNIQUE_VIOLATION, type Sql } from "../db/db.ts";
import { getChargePoint } from "../store/charge-points.ts";
import { enqueueCommand } from "../store/commands.ts";
import { insertReservation, type ReservationRow } from "../store/reservations.ts";
import { nowDate } from "./time.ts";

export interface ReserveInput {
  driverId: string;
  cpId?: string;
}

/**
 * Only an available, online charge point can be reserved. The conditional UPDATE takes the row
 * lock and re-checks the status, so of N concurrent requests for one charge point exactly one
 * wins; the partial unique index on live reservations backs that up inside the database.
 */
export async function reserve(ctx: CentralContext, input: ReserveInput): Promise<ReservationRow> {
  const now = nowDate(ctx);
  const expiresAt = new Date(now.getTime() + ctx.config.RESERVATION_TTL_SECONDS * 1000);
  try {
    const reservation = await ctx.db.transaction(async (tx) => {
      const cpId = await claimChargePoint(tx, input.cpId);
      if (!cpId) throw await notAvailable(tx, input.cpId);
      const row = await insertReservation(tx, {
        reservation_id: newId("res"),
        cp_id: cpId,
        driver_id: input.driverId,
        created_at: now,
        expires_at: expiresAt,
      });
      await enqueueCommand(tx, cpId, "reserve", { reservationId: row.reservation_id, expiresAt: expiresAt.toISOString() }, now);
      return row;
    });
    ctx.metrics.reservations.inc({ outcome: "reserved" });
    ctx.notifyOutbox();
    return reservation;
  } catch (error) {
    if (pgErrorCode(error) === UNIQUE_VIOLATION) {
      ctx.metrics.reservations.inc({ outcome: "conflict" });
      throw new AppError("charge_point_not_available", "Charge point already has a live reservation");
    }
    if (error instanceof AppError) ctx.metrics.reservations.inc({ outcome: error.code });
    throw error;
  }
}

/**
 * Without a cpId, SKIP LOCKED passes over charge points that concurrent requests hold locked at
 * this instant; if any of those requests then rolls back, the charge point was free after all.
 * So "none available" is answered only when no available row remains even counting locked ones,
 * with a few short retries while some do.
 */
async function claimChargePoint(tx: Sql, cpId: string | undefined): Promise<string | null> {
  for (let attempt = 0; ; attempt++) {
    const claimed = await claimOnce(tx, cpId);
    if (claimed || cpId || attempt >= 3) return claimed;
    const left = await tx.query("SELECT 1 FROM charge_points WHERE status = 'available' AND online AND secret_hash IS NOT NULL LIMIT 1");
    if (left.length === 0) return null;
    await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1)));
  }
}

async function claimOnce(tx: Sql, cpId: string | undefined): Promise<string | null> {
  const rows = cpId
    ? await tx.query<{ cp_id: string }>(
        `UPDATE charge_points SET status = 'reserved'
          WHERE cp_id = $1 AND status = 'available' AND online AND secret_hash IS NOT NULL RETURNING cp_id`,
        [cpId],
      )
    : await tx.query<{ cp_id: string }>(
        `UPDATE charge_points SET status = 'reserved'
          WHERE status = 'available' AND online AND secret_hash IS NOT NULL AND cp_id = (
            SELECT cp_id FROM charge_points WHERE status = 'available' AND online AND secret_hash IS NOT NULL
             ORDER BY cp_id LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING cp_id`,
      );
  return rows[0]?.cp_id ?? null;
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
