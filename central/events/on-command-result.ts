import { recordCommandResult } from "../store/commands.ts";
import { transitionReservation } from "../store/reservations.ts";
import { releaseChargePoint } from "../domain/release-charge-point.ts";
import type { EventHandler } from "./handler.ts";

/**
 * Records the charger's answer. A refused or undeliverable `reserve` ends the reservation at
 * once rather than at its expiry, so the driver learns quickly and the charge point is freed.
 */
export const onCommandResult: EventHandler<"command_result"> = async (tx, ctx, e) => {
  const { commandId, accepted, reason } = e.payload;
  const status = accepted ? "accepted" : reason === "expired" ? "expired" : "rejected";
  const command = await recordCommandResult(tx, commandId, status, reason, e.now);
  if (!command || accepted) return;
  ctx.log.warn({ cpId: e.cpId, commandId, type: command.type, reason }, "Charger did not accept a command");
  if (command.type === "reserve") {
    const reservationId = (command.payload as { reservationId: string }).reservationId;
    const ended = await transitionReservation(tx, reservationId, ["reserved"], "cancelled", {
      at: e.now,
      reason: `reserve_${status}${reason ? `: ${reason}` : ""}`,
    });
    if (ended) await releaseChargePoint(tx, ended.cp_id, "reserved");
  }
};
