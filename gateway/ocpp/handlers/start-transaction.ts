import { connectorCpId, emit, type OcppHandler } from "../context.ts";
import { contentId, digest } from "../message-id.ts";

/**
 * StartTransaction (OCPP 1.6 §4.8) → `charging_started`, judged by its own `timestamp`
 * (a transaction the box queued while offline arrives late and Central decides by event time).
 * - The reservation is the one the gateway sent in ReserveNow: by `reservationId`, or else by
 *   the idTag it generated for it (many boxes leave `reservationId` out after RemoteStart).
 * - `transactionId` is assigned here, unique on this gateway (so per charge point), and fsynced
 *   with the event before the CALLRESULT. A retry of the same call (same connector, idTag,
 *   meterStart, timestamp, reservationId), e.g. after the gateway crashed before answering, gets
 *   the same transactionId and the same event id, so Central sees one session.
 * - Without a ChargeBridge reservation (started offline on a local idTag, or a reservation that is
 *   not this connector's) it still gets a transactionId, so the box can report it, but idTagInfo
 *   Invalid (§4.8: the box then stops it when StopTransactionOnInvalidId is set), and a dead letter.
 */
export const startTransaction: OcppHandler = async (ctx, box, p) => {
  const cpId = connectorCpId(ctx, box, p.connectorId);
  const byId = p.reservationId !== undefined ? ctx.maps.byOcppId(p.reservationId) : undefined;
  const r = byId ?? (p.reservationId === undefined ? ctx.maps.liveByIdTag(box, p.idTag) : undefined);
  const ours = r && cpId && r.box === box && r.cpId === cpId && r.idTag === p.idTag ? r : undefined;
  const startKey = digest(box, p.connectorId, p.idTag, p.meterStart, p.timestamp, p.reservationId);
  const { t, superseded, durable } = ctx.maps.startTransaction({
    box,
    connectorId: p.connectorId,
    cpId: cpId ?? box,
    reservationId: ours?.reservationId ?? null,
    meterStartWh: p.meterStart,
    startKey,
  });
  // Taken synchronously, before any await, so the event keeps its place among the box's calls.
  const event = ours
    ? emit(ctx, ours.cpId, "charging_started", { id: contentId("start", startKey), ts: p.timestamp, reservationId: ours.reservationId, meterStartWh: p.meterStart })
    : ctx.deadLetter(box, `ocpp1.6/${box}/StartTransaction`, JSON.stringify(p), `ocpp: StartTransaction without a ChargeBridge reservation on connector ${p.connectorId}; transactionId ${t.txId} answered Invalid`);
  for (const o of superseded.filter((o) => o.reservationId)) {
    // A session whose StopTransaction never came: Central keeps it open until a stop or a reconcile.
    ctx.log.warn({ box, connectorId: p.connectorId, transactionId: o.txId, reservationId: o.reservationId }, "OCPP StartTransaction on a connector whose session never stopped; the earlier transaction is closed here");
  }
  await Promise.all([durable, event]);
  return { transactionId: t.txId, idTagInfo: { status: ours ? "Accepted" : "Invalid" } };
};
