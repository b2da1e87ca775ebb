import type { ConsumedRecord, EventBus, Subscription } from "../../platform/event-bus.ts";
import type { DeadLetter } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { pgErrorCode } from "../db/db.ts";
import { applyBusRecord } from "./apply-bus-record.ts";

/**
 * Consumes the events topic as one member of Central's consumer group. The bus commits a record
 * only after this handler resolves, i.e. after the database transaction committed; a failure
 * (database down) throws, and the bus redelivers the same record.
 */
export async function startEventConsumer(ctx: CentralContext, bus: EventBus): Promise<Subscription> {
  // Records of different chargers in different partitions touch different rows, so applying
  // partitions concurrently is safe; one partition (one charger's records) stays in order.
  const options = { groupId: ctx.config.CENTRAL_GROUP_ID, fromBeginning: true, concurrency: ctx.config.CENTRAL_CONSUMER_CONCURRENCY };
  return bus.subscribe(ctx.topics.events, options, (record) => handleEventRecord(ctx, bus, record));
}

/**
 * SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation) fail the same way
 * on every retry: such a record is dead-lettered, or it would block its partition for good.
 * Anything else (connection lost, serialization failure) is retried by the bus.
 */
function isDeterministic(error: unknown): boolean {
  const code = pgErrorCode(error);
  return code !== undefined && (code.startsWith("22") || code.startsWith("23"));
}

export async function handleEventRecord(ctx: CentralContext, bus: EventBus, record: ConsumedRecord): Promise<void> {
  let reason: string;
  try {
    const outcome = await applyBusRecord(ctx, record.value);
    if (outcome.result !== "invalid") return;
    reason = outcome.reason;
  } catch (error) {
    if (!isDeterministic(error)) throw error;
    reason = `database refused the event (${pgErrorCode(error)}): ${(error as Error).message}`;
  }
  ctx.metrics.eventsDeadLettered.inc();
  ctx.log.warn({ key: record.key, offset: record.offset, reason }, "Event dead-lettered");
  const letter: DeadLetter = {
    source: "central",
    reason,
    topic: record.topic,
    cpId: record.key,
    raw: record.value.slice(0, 64 * 1024),
    at: new Date(ctx.clock.now()).toISOString(),
  };
  await bus.publish(ctx.topics.deadLetters, [{ key: record.key, value: JSON.stringify(letter) }]);
}
