import type { EventOrigin, UpstreamMessage, UpstreamType } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { presence, seen } from "../lifecycle/index.ts";
import { getChargePoint } from "../store/charge-points.ts";
import { markProcessed } from "../store/processed-messages.ts";
import { decodeBusRecord } from "./decode-bus-record.ts";
import type { EventHandler } from "./handler.ts";
import { eventHandlers } from "./handlers.ts";

export type ApplyOutcome =
  | { result: "applied" | "duplicate" | "ignored" }
  | { result: "invalid"; reason: string };

/**
 * Applies one record from the events topic. The message id is recorded in the same transaction
 * as the effect, so a redelivered record (at-least-once bus, gateway replay after a crash)
 * changes nothing. Invalid records are reported to the caller for dead-lettering, never thrown:
 * a poison record must not block the ones behind it.
 */
export async function applyBusRecord(ctx: CentralContext, value: string): Promise<ApplyOutcome> {
  const decoded = decodeBusRecord(value);
  if (!decoded.ok) return { result: "invalid", reason: decoded.reason };
  if (decoded.kind === "presence") {
    const applied = await ctx.db.transaction((tx) => presence(tx, decoded.event));
    return { result: applied ? "applied" : "ignored" };
  }
  return applyUpEvent(ctx, decoded.cpId, decoded.message, decoded.origin);
}

async function applyUpEvent(ctx: CentralContext, cpId: string, message: UpstreamMessage, origin?: EventOrigin): Promise<ApplyOutcome> {
  const { type, payload } = message;
  const now = new Date(ctx.clock.now());
  const outcome = await ctx.db.transaction(async (tx) => {
    if (!(await getChargePoint(tx, cpId))) return "ignored" as const;
    if (!(await markProcessed(tx, cpId, payload.id, type, now))) return "duplicate" as const;
    await seen(tx, cpId, now);
    const handler = eventHandlers[type] as EventHandler<UpstreamType>;
    await handler(tx, ctx, { cpId, payload, eventTime: new Date(payload.ts), now, ...(origin && { origin }) });
    return "applied" as const;
  });
  if (outcome === "applied") {
    ctx.metrics.eventsApplied.inc({ type });
    ctx.notifyOutbox();
  } else if (outcome === "duplicate") {
    ctx.metrics.eventsDuplicate.inc();
  } else {
    ctx.log.warn({ cpId, type }, "Event for an unknown charge point ignored");
  }
  return { result: outcome };
}
