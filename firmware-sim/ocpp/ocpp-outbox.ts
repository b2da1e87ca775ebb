import type { UpstreamType } from "../../protocol/index.ts";
import { OfflineBuffer, type OfflineBufferStats } from "../offline-buffer.ts";

/** One charger → Central call waiting for its CALLRESULT. */
export interface OutboxCall {
  /** The firmware message it carries: decides what a full buffer evicts first (offline-buffer.ts). */
  type: UpstreamType;
  action: string;
  /**
   * Built when sent, not when queued: a MeterValues or StopTransaction produced offline needs the
   * transactionId that only the (also queued) StartTransaction's answer will bring.
   */
  params: () => Record<string, unknown>;
  onResult?: (result: Record<string, unknown>) => void;
}

export type CallFn = (action: string, params: Record<string, unknown>) => Promise<Record<string, unknown>>;

export interface OutboxStats extends OfflineBufferStats {
  acked: number;
  /** Calls Central answered with a CALLERROR: dropped, since sending them again gets the same answer. */
  refused: number;
  /** Sends of a call whose answer never came (link dropped, call timed out) that were tried again. */
  retried: number;
}

/**
 * The charger's ordered queue of calls to Central. OCPP 1.6 §4.1.1 allows one outstanding CALL
 * at a time, and §3.3 ("transaction-related messages") requires StartTransaction,
 * StopTransaction and transaction MeterValues to be delivered reliably and in order: a call
 * stays at the head until its CALLRESULT arrives, so one whose answer was lost in a dropped
 * link or a gateway crash is sent again, unchanged (same timestamp), on the next connection.
 */
export class OcppOutbox {
  private readonly buffer: OfflineBuffer<OutboxCall>;
  private queue: OutboxCall[] = [];
  private pumping = false;
  private online = false;
  private acked = 0;
  private refused = 0;
  private retried = 0;
  private attempts = 0;

  constructor(
    private readonly call: CallFn,
    capacity: number,
    /** A call that failed without an answer is tried again after this pause if the link stays up. */
    private readonly retryMs = 1_000,
    private readonly onRefused: (call: OutboxCall, error: Error) => void = () => {},
  ) {
    this.buffer = new OfflineBuffer<OutboxCall>(capacity);
  }

  get size(): number {
    return this.queue.length + this.buffer.size;
  }

  /** False when the call is not kept (a heartbeat says "alive now" and means nothing later). */
  push(call: OutboxCall): boolean {
    const kept = this.buffer.push(call);
    void this.pump();
    return kept;
  }

  setOnline(online: boolean): void {
    this.online = online;
    if (online) void this.pump();
  }

  stats(): OutboxStats {
    const b = this.buffer.stats();
    return { ...b, size: this.size, acked: this.acked, refused: this.refused, retried: this.retried };
  }

  /** Resolves once nothing is waiting (or the link went down with calls still queued). */
  async idle(): Promise<void> {
    while (this.pumping) await new Promise((r) => setTimeout(r, 5));
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.online) {
        if (this.queue.length === 0) this.queue = this.buffer.drain();
        const head = this.queue[0];
        if (!head) break;
        if (this.attempts > 0) this.retried += 1;
        this.attempts += 1;
        let result: Record<string, unknown>;
        try {
          result = await this.call(head.action, head.params());
        } catch (error) {
          if (isCallError(error)) {
            this.queue.shift();
            this.attempts = 0;
            this.refused += 1;
            this.onRefused(head, error as Error);
            continue;
          }
          // No answer: keep it at the head. If the link is still up (a timeout), pause first.
          if (this.online) await new Promise((r) => setTimeout(r, this.retryMs));
          continue;
        }
        this.queue.shift();
        this.attempts = 0;
        this.acked += 1;
        head.onResult?.(result);
      }
    } finally {
      this.pumping = false;
    }
  }
}

/** A CALLERROR from Central (or our own strict-mode check refusing the call) carries an RPC error code. */
function isCallError(error: unknown): boolean {
  return typeof (error as { rpcErrorCode?: unknown })?.rpcErrorCode === "string";
}
