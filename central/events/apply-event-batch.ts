import type { ConsumedRecord } from "../../platform/event-bus.ts";
import type { EventOrigin, UpstreamMessage, UpstreamType } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { meteredAll, presence, seenAll } from "../lifecycle/index.ts";
import type { MeterReading } from "../lifecycle/store/sessions.ts";
import { markProcessedBatch, messageKey, type MessageKey } from "../store/processed-messages.ts";
import { decodeBusRecord } from "./decode-bus-record.ts";
import type { EventHandler } from "./handler.ts";
import { eventHandlers } from "./handlers.ts";

export interface BatchOutcome {
  applied: number;
  duplicate: number;
  ignored: number;
  /** Records that cannot be decoded, for the caller to dead-letter once the batch committed. */
  invalid: { record: ConsumedRecord; reason: string }[];
}

/**
 * Applies a batch of events-topic records (one partition, in offset order) in ONE transaction,
 * with the same outcome as applying them one by one (applyBusRecord), which
 * tests/contract/event-batch.contract.ts checks on random sequences:
 *
 * - One statement records every message id of the batch (markProcessedBatch); a repeat, from an
 *   earlier batch or earlier in this one, is a duplicate and changes nothing (exactly once).
 * - Heartbeats need nothing else; last_seen_at of every charger heard from is one statement at
 *   the end (it only moves forward, so its place in the order does not matter).
 * - Meter readings are collected and written as one statement per run, the run ending at the
 *   next lifecycle event (meteredAll says why that is the sequential outcome).
 * - Everything else (boot, status, starts, stops, faults, command results, presence) can move the
 *   lifecycle, so it goes through its intent, in order, after the pending run is written: the
 *   lifecycle module stays the only writer, and every charger's order holds.
 */
export async function applyEventBatch(ctx: CentralContext, records: ConsumedRecord[]): Promise<BatchOutcome> {
  const decoded = records.map((record) => ({ record, d: decodeBusRecord(record.value) }));
  const outcome: BatchOutcome = { applied: 0, duplicate: 0, ignored: 0, invalid: [] };
  for (const { record, d } of decoded) if (!d.ok) outcome.invalid.push({ record, reason: d.reason });
  const ups = decoded.flatMap(({ d }) => (d.ok && d.kind === "up" ? [d] : []));
  const now = new Date(ctx.clock.now());
  const applied: UpstreamType[] = [];
  const unknown = new Set<string>();

  const result = await ctx.db.transaction(async (tx) => {
    const keys = new Map<string, MessageKey>();
    for (const u of ups) {
      const key = messageKey(u.cpId, u.message.payload.id);
      if (!keys.has(key)) keys.set(key, { cpId: u.cpId, messageId: u.message.payload.id, type: u.message.type });
    }
    const { fresh, known } = await markProcessedBatch(tx, [...keys.values()], now);
    const touched = new Set<string>();
    let meters: MeterReading[] = [];
    let presenceApplied = 0;
    let presenceIgnored = 0;
    const flushMeters = async () => {
      if (meters.length > 0) await meteredAll(tx, meters);
      meters = [];
    };
    for (const { d } of decoded) {
      if (!d.ok) continue;
      if (d.kind === "presence") {
        await flushMeters();
        if (await presence(tx, d.event)) presenceApplied += 1;
        else presenceIgnored += 1;
        continue;
      }
      const { cpId, message } = d;
      if (!known.has(cpId)) {
        unknown.add(cpId);
        continue;
      }
      // The first occurrence takes the key; a later one in this batch is a duplicate.
      if (!fresh.delete(messageKey(cpId, message.payload.id))) {
        outcome.duplicate += 1;
        continue;
      }
      touched.add(cpId);
      applied.push(message.type);
      if (message.type === "heartbeat") continue;
      if (message.type === "meter") {
        const p = message.payload;
        meters.push({ reservationId: p.reservationId, energyWh: p.energyWh, powerW: p.powerW, at: new Date(p.ts) });
        continue;
      }
      await flushMeters();
      await applyOne(tx, ctx, cpId, message, now, d.origin);
    }
    await flushMeters();
    await seenAll(tx, [...touched], now);
    return { presenceApplied, presenceIgnored };
  });

  for (const type of applied) ctx.metrics.eventsApplied.inc({ type });
  if (outcome.duplicate > 0) ctx.metrics.eventsDuplicate.inc(outcome.duplicate);
  for (const cpId of unknown) ctx.log.warn({ cpId }, "Event for an unknown charge point ignored");
  outcome.applied = applied.length + result.presenceApplied;
  outcome.ignored = ups.length - applied.length - outcome.duplicate + result.presenceIgnored;
  if (applied.length > 0) ctx.notifyOutbox();
  return outcome;
}

function applyOne(tx: Parameters<EventHandler<UpstreamType>>[0], ctx: CentralContext, cpId: string, message: UpstreamMessage, now: Date, origin?: EventOrigin): Promise<void> {
  const handler = eventHandlers[message.type] as EventHandler<UpstreamType>;
  return handler(tx, ctx, { cpId, payload: message.payload, eventTime: new Date(message.payload.ts), now, ...(origin && { origin }) });
}
