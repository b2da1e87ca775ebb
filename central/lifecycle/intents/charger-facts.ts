import type { PresenceEvent } from "../../../protocol/index.ts";
import type { Sql } from "../../db/db.ts";
import { recordIdentity, recordPresence, touchChargePoint, touchChargePoints } from "../store/charge-point-facts.ts";

/**
 * Facts about a charger that move no lifecycle state (none of them is in TRANSITIONS): whether it
 * is connected, what it is, when it was last heard from. They still live here, so that every
 * write to `charge_points` has one home.
 */
export async function presence(tx: Sql, e: PresenceEvent): Promise<boolean> {
  return recordPresence(tx, e.cpId, e.online, new Date(e.at), e.gatewayId);
}

export async function booted(tx: Sql, cpId: string, p: { vendor: string; model: string; firmware: string }): Promise<void> {
  await recordIdentity(tx, cpId, p.vendor, p.model, p.firmware);
}

export async function seen(tx: Sql, cpId: string, now: Date): Promise<void> {
  await touchChargePoint(tx, cpId, now);
}

/** `seen` for every charger of a batch at once; last_seen_at only moves forward, so order does not matter. */
export async function seenAll(tx: Sql, cpIds: string[], now: Date): Promise<void> {
  await touchChargePoints(tx, cpIds, now);
}
