import type { PresenceEvent } from "../../protocol/index.ts";
import type { Sql } from "../db/db.ts";

/**
 * Online/offline as the gateway saw it, ordered by the gateway's timestamp so that a stale
 * "offline" from a gateway the charger has left cannot override a newer "online" elsewhere.
 */
export async function applyPresence(tx: Sql, e: PresenceEvent): Promise<boolean> {
  const at = new Date(e.at);
  const rows = await tx.query(
    `UPDATE charge_points
        SET online = $2, presence_at = $3, gateway_id = $4,
            last_seen_at = GREATEST(COALESCE(last_seen_at, $3), $3)
      WHERE cp_id = $1 AND (presence_at IS NULL OR presence_at <= $3)
      RETURNING cp_id`,
    [e.cpId, e.online, at, e.gatewayId],
  );
  return rows.length === 1;
}
