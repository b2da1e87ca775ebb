import type { EventBus, Subscription } from "../../platform/event-bus.ts";
import type { DeadLetter } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { applyBusRecord } from "./apply-bus-record.ts";

/**
 * Consumes the events topic as one member of Central's consumer group. The bus commits a record
 * only after this handler resolves, i.e. after the database transaction committed; a failure
 * (database down) throws, and the bus redelivers the same record.
 */
export async function startEventConsumer(ctx: CentralContext, bus: EventBus): Promise<Subscription> {
  return bus.subscribe(ctx.topics.events, { groupId: ctx.config.CENTRAL_GROUP_ID, fromBeginning: true }, async (record) => {
    const outcome = await applyBusRecord(ctx, record.value);
    if (outcome.result !== "invalid") return;
    ctx.metrics.eventsDeadLettered.inc();
    ctx.log.warn({ key: record.key, offset: record.offset, reason: outcome.reason }, "Invalid event dead-lettered");
    const letter: DeadLetter = {
      source: "central",
      reason: outcome.reason,
      topic: record.topic,
      cpId: record.key,
      raw: record.value.slice(0, 64 * 1024),
      at: new Date(ctx.clock.now()).toISOString(),
    };
    await bus.publish(ctx.topics.deadLetters, [{ key: record.key, value: JSON.stringify(letter) }]);
  });
}
