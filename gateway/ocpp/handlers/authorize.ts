import type { OcppHandler } from "../context.ts";

/**
 * Authorize (OCPP 1.6 §4.1): only the idTag the gateway gave a live reservation on this box
 * (ReserveNow) is Accepted; every other idTag is Invalid, because ChargeBridge charges only
 * against a reservation.
 */
export const authorize: OcppHandler = async (ctx, box, p) => {
  const live = ctx.maps.liveByIdTag(box, p.idTag, ctx.clock.now());
  return { idTagInfo: { status: live ? "Accepted" : "Invalid" } };
};
