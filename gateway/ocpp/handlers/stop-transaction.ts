import { emit, type OcppHandler } from "../context.ts";
import { contentId } from "../message-id.ts";

/**
 * StopTransaction (OCPP 1.6 §4.10) → `charging_stopped` at its own `timestamp`, session
 * energy = meterStop − meterStart (Central). Always answered: a box retries an unanswered
 * StopTransaction forever (OCPP 1.6 "transaction-related messages": retried until answered), so one for a transactionId
 * the gateway never assigned (−1 from a start that was never confirmed, or one from before the
 * gateway's state) gets a CALLRESULT too and is dead-lettered for the operator.
 * `transactionData` is not mapped (docs/ocpp.md, not covered).
 */
export const stopTransaction: OcppHandler = async (ctx, box, p) => {
  const t = ctx.maps.transaction(p.transactionId);
  if (!t || t.box !== box) {
    await ctx.deadLetter(box, `ocpp1.6/${box}/StopTransaction`, JSON.stringify(p), `ocpp: StopTransaction for unknown transactionId ${p.transactionId}; answered`);
    return {};
  }
  const writes: Promise<void>[] = [];
  if (t.reservationId) {
    writes.push(
      emit(ctx, t.cpId, "charging_stopped", {
        id: contentId("stop", box, t.txId),
        ts: p.timestamp,
        reservationId: t.reservationId,
        meterStopWh: p.meterStop,
        reason: p.reason ?? "Local",
      }),
    );
    const r = ctx.maps.byChargeBridgeId(t.reservationId);
    if (r) writes.push(ctx.maps.endReservation(r.ocppId));
  }
  writes.push(ctx.maps.stopTransaction(t.txId));
  await Promise.all(writes);
  return t.reservationId ? { idTagInfo: { status: "Accepted" } } : {};
};
