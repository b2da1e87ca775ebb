import { Backoff, delay } from "../../platform/backoff.ts";
import type { BusRecord, EventBus } from "../../platform/event-bus.ts";
import { chunkRecords } from "../../platform/record-bytes.ts";
import type { CredentialRecord } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { listCredentials } from "../store/charge-points.ts";

/**
 * Gateways authenticate chargers on their own, even while Central or the bus is away, so they
 * keep a copy of each charger's salted hash. Central publishes a record on every provisioning or
 * rotation, and a full snapshot at start-up (the topic is compacted on Kafka). Publishing retries
 * in the background until the bus takes it.
 */
export class CredentialPublisher {
  private readonly abort = new AbortController();
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly ctx: CentralContext,
    private readonly bus: EventBus,
  ) {}

  async publishSnapshot(): Promise<void> {
    const rows = await listCredentials(this.ctx.db);
    this.publish(rows.map((r) => ({ cpId: r.cp_id, hash: r.secret_hash })));
  }

  publish(items: { cpId: string; hash: string | null }[]): void {
    if (items.length === 0) return;
    const at = new Date(this.ctx.clock.now()).toISOString();
    const records = items.map((i) => {
      const value: CredentialRecord = { cpId: i.cpId, hash: i.hash, updatedAt: at };
      return { key: i.cpId, value: JSON.stringify(value) };
    });
    const task = this.deliver(records).finally(() => this.inflight.delete(task));
    this.inflight.add(task);
  }

  async stop(deadlineMs = 3_000): Promise<void> {
    await Promise.race([Promise.all(this.inflight), delay(deadlineMs)]);
    this.abort.abort();
  }

  /** Publishes in bounded chunks, in order: a snapshot of every charger is one record each. */
  private async deliver(records: BusRecord[]): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 10_000 });
    for (const chunk of chunkRecords(records)) {
      while (!this.abort.signal.aborted) {
        try {
          await this.bus.publish(this.ctx.topics.credentials, chunk, { signal: this.abort.signal });
          backoff.reset();
          break;
        } catch (error) {
          this.ctx.log.warn({ err: error }, "Publishing charger credentials failed; retrying");
          await delay(backoff.next(), this.abort.signal);
        }
      }
    }
  }
}
