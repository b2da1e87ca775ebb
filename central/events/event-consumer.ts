import type { ConsumedRecord, EventBus, Subscription } from "../../platform/event-bus.ts";
import { encodeDeadLetter } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { pgErrorCode } from "../db/db.ts";
import { applyBusRecord } from "./apply-bus-record.ts";
import { applyEventBatch } from "./apply-event-batch.ts";

/**
 * Consumes the events topic as one member of Central's consumer group, a batch of records per
 * transaction (CENTRAL_EVENT_BATCHING, default on; up to CENTRAL_BATCH_MAX_RECORDS each), else one
 * record per transaction. The bus commits records only after the handler resolves, i.e. after the
 * database transaction committed; a failure (database down) throws, and the bus redelivers them.
 */
export async function startEventConsumer(ctx: CentralContext, bus: EventBus): Promise<Subscription> {
  // Records of different chargers in different partitions touch different rows, so applying
  // partitions concurrently is safe; one partition (one charger's records) stays in order.
  const options = { groupId: ctx.config.CENTRAL_GROUP_ID, fromBeginning: true, concurrency: ctx.config.CENTRAL_CONSUMER_CONCURRENCY };
  if (ctx.config.CENTRAL_EVENT_BATCHING && bus.subscribeBatch) {
    const batchOptions = { ...options, maxBatchRecords: ctx.config.CENTRAL_BATCH_MAX_RECORDS };
    return bus.subscribeBatch(ctx.topics.events, batchOptions, (records) => handleEventBatch(ctx, bus, records));
  }
  return bus.subscribe(ctx.topics.events, options, (record) => handleEventRecord(ctx, bus, record));
}

/**
 * Applies a batch in one transaction (applyEventBatch); the bus commits its offsets only after
 * this resolves. A deterministic database refusal anywhere in the batch (a poison record) rolls
 * the whole batch back; it is then applied again one record at a time, which dead-letters only
 * the poison one and applies the rest (ids of those already applied make no difference: each
 * record is applied exactly once either way). Anything else throws, and the bus redelivers.
 */
export async function handleEventBatch(ctx: CentralContext, bus: EventBus, records: ConsumedRecord[]): Promise<void> {
  let invalid: { record: ConsumedRecord; reason: string }[];
  ctx.metrics.eventBatchRecords.observe(records.length);
  try {
    ({ invalid } = await applyEventBatch(ctx, records));
  } catch (error) {
    if (!isDeterministic(error)) throw error;
    ctx.metrics.eventBatchFallbacks.inc();
    ctx.log.warn({ records: records.length, first: records[0]?.offset, code: pgErrorCode(error) }, "Batch refused by the database; applying it one record at a time");
    for (const record of records) await handleEventRecord(ctx, bus, record);
    return;
  }
  // After the commit, so that a batch that failed and comes again does not dead-letter twice.
  for (const { record, reason } of invalid) await deadLetter(ctx, bus, record, reason);
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
  await deadLetter(ctx, bus, record, reason);
}

async function deadLetter(ctx: CentralContext, bus: EventBus, record: ConsumedRecord, reason: string): Promise<void> {
  ctx.metrics.eventsDeadLettered.inc();
  ctx.log.warn({ key: record.key, offset: record.offset, reason }, "Event dead-lettered");
  // Bounded like the gateway's (protocol/dead-letter-encoding.ts): a record can be up to
  // FORWARD_RECORD_MAX_BYTES and escaping can multiply it, so the letter keeps a prefix and says
  // where the whole record still is.
  const value = encodeDeadLetter({
    source: "central",
    reason: `${reason} (${record.topic} partition ${record.partition} offset ${record.offset})`,
    topic: record.topic,
    cpId: record.key,
    raw: record.value,
    at: new Date(ctx.clock.now()).toISOString(),
  });
  await bus.publish(ctx.topics.deadLetters, [{ key: record.key, value }]);
}
