import { reserveRefused } from "../lifecycle/index.ts";
import { recordCommandResult } from "../store/commands.ts";
import type { EventHandler } from "./handler.ts";

/** Records the charger's answer; a refused `reserve` ends its reservation at once. */
export const onCommandResult: EventHandler<"command_result"> = async (tx, ctx, e) => {
  const { commandId, accepted, reason } = e.payload;
  const status = accepted ? "accepted" : reason === "expired" ? "expired" : "rejected";
  const command = await recordCommandResult(tx, commandId, status, reason, e.now);
  if (!command || accepted) return;
  ctx.log.warn({ cpId: e.cpId, commandId, type: command.type, reason }, "Charger did not accept a command");
  if (command.type === "reserve") {
    await reserveRefused(tx, (command.payload as { reservationId: string }).reservationId, status, reason, e.now);
  }
};
