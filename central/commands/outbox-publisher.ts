import { Backoff, delay } from "../../platform/backoff.ts";
import type { EventBus } from "../../platform/event-bus.ts";
import type { CommandRecord } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { countUnpublished, leaseUnpublished, markPublished } from "../store/commands.ts";

const LEASE_MS = 30_000;
const POLL_MS = 1_000;

/**
 * Moves committed commands from the outbox table to the bus, in order, forever: a bus outage
 * only delays them. `kick()` wakes it right after a commit; a slow poll covers other instances'
 * work and expired leases.
 */
export class OutboxPublisher {
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  private kicked = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly ctx: CentralContext,
    private readonly bus: EventBus,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Publishes what is pending (best effort within the deadline), then stops. */
  async stop(deadlineMs = 5_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (this.loop && Date.now() < until && (await countUnpublished(this.ctx.db).catch(() => 0)) > 0 && this.bus.health().state === "connected") {
      this.kick();
      await delay(50);
    }
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    while (!this.abort.signal.aborted) {
      try {
        this.kicked = false;
        const published = await this.publishBatch();
        backoff.reset();
        if (published > 0 || this.kicked) continue;
        await this.sleep(POLL_MS);
      } catch (error) {
        this.ctx.log.warn({ err: error }, "Publishing commands failed; retrying");
        await delay(backoff.next(), this.abort.signal);
      }
    }
  }

  private async publishBatch(): Promise<number> {
    const now = new Date(this.ctx.clock.now());
    const rows = await leaseUnpublished(this.ctx.db, now, LEASE_MS, 200);
    if (rows.length === 0) {
      this.ctx.metrics.outboxPending.set(0);
      return 0;
    }
    const records = rows.map((row) => {
      const value: CommandRecord = { cpId: row.cp_id, type: row.type, payload: row.payload as Record<string, unknown> };
      return { key: row.cp_id, value: JSON.stringify(value), headers: { "command-id": row.command_id } };
    });
    // Stopping ends a publish that waits for an unreachable Kafka; the lease then runs out and the
    // commands go out again (chargers drop the duplicate by command id).
    await this.bus.publish(this.ctx.topics.commands, records, { signal: this.abort.signal });
    await markPublished(this.ctx.db, rows.map((r) => r.command_id), new Date(this.ctx.clock.now()));
    for (const row of rows) this.ctx.metrics.commandsPublished.inc({ type: row.type });
    this.ctx.metrics.outboxPending.set(await countUnpublished(this.ctx.db));
    return rows.length;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.wake = null;
    });
  }
}
