import type { UpstreamType } from "../protocol/index.ts";

export interface BufferedMessage {
  type: UpstreamType;
  topic: string;
  payload: string;
  onAcked?: () => void;
}

export interface OfflineBufferStats {
  /** Messages waiting now. */
  size: number;
  peak: number;
  /** Evicted to make room, by type. */
  dropped: Partial<Record<UpstreamType, number>>;
  /** Not buffered at all: a heartbeat says "alive now" and means nothing later. */
  skipped: number;
}

/**
 * Transaction messages are what billing and the reservation state machine depend on; real
 * firmware (OCPP's "transaction-related messages") keeps them through an outage at the cost of
 * everything else. Meter values come next: they are sampled, and losing some in a long outage
 * only coarsens the curve. Status is re-sent on every reconnect anyway.
 */
const PRIORITY: Record<UpstreamType, number> = {
  charging_started: 3,
  charging_stopped: 3,
  command_result: 3,
  fault: 3,
  fault_cleared: 3,
  boot: 3,
  meter: 2,
  status: 1,
  heartbeat: 0,
};

/**
 * The charger's own bounded store of messages produced while it has no connection. Bounded,
 * because firmware has fixed memory; when full, the oldest message of the lowest priority is
 * evicted, so a long outage costs meter values before it costs a transaction.
 */
export class OfflineBuffer<M extends { type: UpstreamType } = BufferedMessage> {
  private items: M[] = [];
  private peak = 0;
  private skipped = 0;
  private readonly dropped: Partial<Record<UpstreamType, number>> = {};

  constructor(readonly capacity = 1_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error("OfflineBuffer capacity must be a positive whole number");
  }

  get size(): number {
    return this.items.length;
  }

  /** False when the message is not kept at all (a heartbeat); evicted or refused ones count as dropped. */
  push(message: M): boolean {
    if (PRIORITY[message.type] === 0) {
      this.skipped += 1;
      return false;
    }
    if (this.items.length >= this.capacity && !this.evictFor(message)) {
      this.count(message.type);
      return true;
    }
    this.items.push(message);
    this.peak = Math.max(this.peak, this.items.length);
    return true;
  }

  /** Hands over everything in the order it was produced and empties the buffer. */
  drain(): M[] {
    const out = this.items;
    this.items = [];
    return out;
  }

  stats(): OfflineBufferStats {
    return { size: this.items.length, peak: this.peak, dropped: { ...this.dropped }, skipped: this.skipped };
  }

  /** Evicts the oldest message of the lowest priority below the newcomer's; false if none is lower-or-equal. */
  private evictFor(incoming: M): boolean {
    let victim = -1;
    for (let i = 0; i < this.items.length; i++) {
      const p = PRIORITY[this.items[i]!.type];
      if (p > PRIORITY[incoming.type]) continue;
      if (victim < 0 || p < PRIORITY[this.items[victim]!.type]) victim = i;
    }
    if (victim < 0) return false;
    this.count(this.items[victim]!.type);
    this.items.splice(victim, 1);
    return true;
  }

  private count(type: UpstreamType): void {
    this.dropped[type] = (this.dropped[type] ?? 0) + 1;
  }
}
