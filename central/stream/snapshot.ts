import type { Principal } from "../api/auth.ts";
import { chargePointToView, reservationToView, sessionToView } from "../api/views.ts";
import type { Sql } from "../db/db.ts";
import { listChargePoints } from "../store/charge-points.ts";
import { gatewayToView, listGatewayHealth } from "../store/gateway-health.ts";
import type { ReservationRow } from "../store/reservations.ts";
import type { SessionRow } from "../store/sessions.ts";

/** How much history a snapshot carries besides everything live; older rows are REST's business. */
const RECENT_MS = 24 * 3_600_000;
const OPERATOR_LIMIT = 1_000;
const DRIVER_LIMIT = 100;

/**
 * The `snapshot` event's data: current state, so a client needs no separate fetch. Every charge
 * point; live reservations and sessions plus the last day's; a driver only their own; gateways
 * for operators only.
 */
export async function readSnapshot(sql: Sql, principal: Principal, now: number, staleMs: number) {
  const since = new Date(now - RECENT_MS);
  const driverId = principal.role === "driver" ? principal.driverId : null;
  const limit = driverId ? DRIVER_LIMIT : OPERATOR_LIMIT;
  const [chargePoints, reservations, sessions, gateways] = await Promise.all([
    listChargePoints(sql),
    sql.query<ReservationRow & Record<string, unknown>>(
      `SELECT * FROM reservations
        WHERE ($1::text IS NULL OR driver_id = $1) AND (status IN ('reserved', 'charging') OR created_at >= $2)
        ORDER BY created_at DESC LIMIT $3`,
      [driverId, since, limit],
    ),
    sql.query<SessionRow & Record<string, unknown>>(
      `SELECT * FROM sessions
        WHERE ($1::text IS NULL OR driver_id = $1) AND (stopped_at IS NULL OR started_at >= $2)
        ORDER BY started_at DESC LIMIT $3`,
      [driverId, since, limit],
    ),
    driverId ? Promise.resolve([]) : listGatewayHealth(sql),
  ]);
  return {
    chargePoints: chargePoints.map(chargePointToView),
    reservations: reservations.map(reservationToView),
    sessions: sessions.map(sessionToView),
    ...(driverId ? {} : { gateways: gateways.map((g) => gatewayToView(g, now, staleMs)) }),
  };
}
