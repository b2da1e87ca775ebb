import { emit, knownCpIds, nowIso, type OcppHandler } from "../context.ts";

/**
 * BootNotification (OCPP 1.6 §4.2): `boot` for the box and each connector charge point it
 * speaks for. `firmwareVersion` is optional in OCPP; a boot without it is accepted with firmware
 * "". The box gets Accepted, the gateway's time and OCPP_HEARTBEAT_SECONDS, after the fsync.
 */
export const bootNotification: OcppHandler = async (ctx, box, p) => {
  const ts = nowIso(ctx);
  await Promise.all(
    knownCpIds(ctx, box).map((cpId) =>
      emit(ctx, cpId, "boot", {
        id: `o16-boot-${crypto.randomUUID()}`,
        ts,
        vendor: p.chargePointVendor,
        model: p.chargePointModel,
        firmware: p.firmwareVersion ?? "",
        transport: "ocpp1.6",
      }),
    ),
  );
  return { status: "Accepted", currentTime: ts, interval: ctx.heartbeatSeconds };
};
