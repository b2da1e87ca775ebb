import type { EventOrigin, PresenceEvent } from "../../../protocol/index.ts";
import type { Sql } from "../../db/db.ts";
import { recordIdentity, recordLink, recordPresence, touchChargePoint, touchChargePoints } from "../store/charge-point-facts.ts";

/**
 * Facts about a charger that move no lifecycle state (none of them is in TRANSITIONS): whether it
 * is connected, what it is, when it was last heard from. They still live here, so that every
 * write to `charge_points` has one home.
 */
export async function presence(tx: Sql, e: PresenceEvent): Promise<boolean> {
  return recordPresence(tx, e.cpId, e.online, new Date(e.at), e.gatewayId);
}

/**
 * A boot says what the charger is and how it is linked. The gateway's envelope is the source of
 * the link; a record from an older gateway falls back to the payload's informative `transport`
 * (set by the OCPP adapter only), and without either it came over MQTT, the only other transport.
 */
export async function booted(
  tx: Sql,
  cpId: string,
  p: { vendor: string; model: string; firmware: string; transport?: EventOrigin["transport"] | undefined },
  origin?: EventOrigin,
): Promise<void> {
  await recordIdentity(tx, cpId, p.vendor, p.model, p.firmware);
  await linkReported(tx, cpId, origin ?? { transport: p.transport ?? "mqtt" });
}

/**
 * How the charger is linked. An MQTT charger is its own single connector; an OCPP charge point's
 * box and connector come from the gateway, never from the id: an MQTT charger named "foo-2" is
 * not connector 2 of "foo" (docs/ocpp.md, "Connectors"). Unknown stays unknown (null).
 */
export async function linkReported(tx: Sql, cpId: string, o: EventOrigin): Promise<void> {
  const mqtt = o.transport === "mqtt";
  const chargeBox = o.chargeBox ?? (mqtt ? cpId : null);
  const connectorId = o.connectorId ?? (mqtt ? 1 : null);
  await recordLink(tx, cpId, o.transport, chargeBox, connectorId);
}

export async function seen(tx: Sql, cpId: string, now: Date): Promise<void> {
  await touchChargePoint(tx, cpId, now);
}

/** `seen` for every charger of a batch at once; last_seen_at only moves forward, so order does not matter. */
export async function seenAll(tx: Sql, cpIds: string[], now: Date): Promise<void> {
  await touchChargePoints(tx, cpIds, now);
}
