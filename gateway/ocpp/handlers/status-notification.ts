import { connectorCpId, emit, knownCpIds, nowIso, type OcppHandler } from "../context.ts";
import { contentId } from "../message-id.ts";
import { mapStatus } from "../status-map.ts";

/**
 * StatusNotification (OCPP 1.6 §4.9): `status` by the table in status-map.ts, plus `fault` when
 * `errorCode` is not NoError and `fault_cleared` when a fault this gateway saw is gone.
 * Connector 0 is the whole box: the report applies to every connector charge point it speaks
 * for. A connector that is not ours (X-N not provisioned, or revoked) is answered, counted
 * as a dead letter and not mapped. The answer goes out after the fsync.
 */
export const statusNotification: OcppHandler = async (ctx, box, p) => {
  const ts: string = p.timestamp ?? nowIso(ctx);
  let targets: string[];
  if (p.connectorId === 0) targets = knownCpIds(ctx, box);
  else {
    const cpId = connectorCpId(ctx, box, p.connectorId);
    if (!cpId) {
      await ctx.deadLetter(box, `ocpp1.6/${box}/StatusNotification`, JSON.stringify(p), `ocpp: connector ${p.connectorId} has no provisioned charge point ${box}-${p.connectorId}`);
      return {};
    }
    targets = [cpId];
    if (p.connectorId >= 2 && !ctx.maps.connectorsOf(box).has(p.connectorId)) {
      await ctx.maps.rememberConnector(box, p.connectorId, cpId);
      ctx.onConnector(box, cpId);
    } else if (p.connectorId === 1 && !ctx.maps.connectorsOf(box).has(1)) {
      await ctx.maps.rememberConnector(box, 1, cpId);
    }
  }
  const writes: Promise<void>[] = [];
  for (const cpId of targets) {
    const route = ctx.maps.routeOf(cpId);
    const connectorId = cpId === box ? 1 : route?.connectorId ?? 1;
    // Only a ChargeBridge session keeps a Finishing connector `charging`: a transaction answered
    // Invalid (no reservation) is no session at Central, which would see a conflict.
    const status = mapStatus(p.status, ctx.maps.openSessionOn(box, connectorId) !== undefined);
    const id = (kind: string) => contentId(kind, cpId, p.connectorId, p.status, p.errorCode, ts, p.info, p.vendorErrorCode);
    if (status) writes.push(emit(ctx, cpId, "status", { id: id("st"), ts, status }));
    if (p.errorCode !== "NoError") {
      ctx.faults.add(cpId);
      const code = p.vendorErrorCode ? `${p.errorCode}/${p.vendorErrorCode}` : p.errorCode;
      writes.push(emit(ctx, cpId, "fault", { id: id("flt"), ts, code, message: p.info ?? "" }));
    } else if (ctx.faults.delete(cpId)) {
      writes.push(emit(ctx, cpId, "fault_cleared", { id: id("clr"), ts }));
    }
  }
  await Promise.all(writes);
  return {};
};
