import { emit, knownCpIds, nowIso, type OcppHandler } from "../context.ts";

/** Heartbeat (OCPP 1.6 §4.6): `heartbeat` for the box and its connector charge points. */
export const heartbeat: OcppHandler = async (ctx, box) => {
  const ts = nowIso(ctx);
  await Promise.all(knownCpIds(ctx, box).map((cpId) => emit(ctx, cpId, "heartbeat", { id: `o16-hb-${crypto.randomUUID()}`, ts })));
  return { currentTime: ts };
};
