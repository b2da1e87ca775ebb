import { busEventSchema, describeZodError, validateUpstream, type UpEvent, type UpstreamType } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { presence, seen } from "../lifecycle/index.ts";
import { getChargePoint } from "../store/charge-points.ts";
import { markProcessed } from "../store/processed-messages.ts";
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
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return { result: "invalid", reason: "record is not valid JSON" };
  }
  const parsed = busEventSchema.safeParse(json);
  if (!parsed.success) return { result: "invalid", reason: describeZodError(parsed.error, "record") };
  const event = parsed.data;
  if (event.kind === "presence") {
    const applied = await ctx.db.transaction((tx) => presence(tx, event));
    return { result: applied ? "applied" : "ignored" };
  }
  return applyUpEvent(ctx, event);
}

async function applyUpEvent(ctx: CentralContext, event: UpEvent): Promise<ApplyOutcome> {
  const decoded = validateUpstream(event.type, event.payload);
  if (!decoded.ok) return { result: "invalid", reason: decoded.reason };
  const { type, payload } = decoded.value;
  const now = new Date(ctx.clock.now());
  const outcome = await ctx.db.transaction(async (tx) => {
    if (!(await getChargePoint(tx, event.cpId))) return "ignored" as const;
    if (!(await markProcessed(tx, event.cpId, payload.id, type, now))) return "duplicate" as const;
    await seen(tx, event.cpId, now);
    const handler = eventHandlers[type] as EventHandler<UpstreamType>;
    await handler(tx, ctx, { cpId: event.cpId, payload, eventTime: new Date(payload.ts), now });
    return "applied" as const;
  });
  if (outcome === "applied") {
    ctx.metrics.eventsApplied.inc({ type });
    ctx.notifyOutbox();
  } else if (outcome === "duplicate") {
    ctx.metrics.eventsDuplicate.inc();
  } else {
    ctx.log.warn({ cpId: event.cpId, type }, "Event for an unknown charge point ignored");
  }
  return { result: outcome };
}
