import { Backoff, delay } from "../../platform/backoff.ts";
import type { EventBus } from "../../platform/event-bus.ts";
import type { CommandRecord } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { countUnpublished, leaseUnpublished, markAndLease, markPublished, releaseLeases, renewLease, type CommandRow } from "../store/commands.ts";

/**
 * How long a claim on outbox rows outlives its holder. Short, because the commands of an instance
 * that died (and, by the per-charger order rule, every later command of the same chargers) wait
 * this long for another instance; a live holder renews it every RENEW_MS however long its publish
 * waits for Kafka. Exported for the tests that reason about take-over time.
 */
export const LEASE_MS = 5_000;
const RENEW_MS = 1_000;
const POLL_MS = 1_000;
/** The pending gauge is a count(*); refreshed at most this often while busy, not after every batch. */
const GAUGE_MS = 1_000;

/**
 * Moves committed commands from the outbox table to the bus, in order, forever: a bus outage
 * only delays them. `kick()` wakes it right after a commit; a slow poll covers other instances'
 * work and expired leases. The one owner of command publication.
 */
export class OutboxPublisher {
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  private kicked = false;
  private loop: Promise<void> | null = null;
  /** Published, not yet marked: marked by the statement that leases the next batch (markAndLease). */
  private unmarked: string[] = [];
  private gaugeAt = 0;
  /**
   * Whose leases are ours: the instance id names us in the table, the random suffix tells this
   * process from an earlier one with the same id (the default `central-<pid>` repeats across
   * containers, where the pid is often 1), so a restart never renews or marks a dead run's rows.
   */
  readonly owner: string;

  constructor(
    private readonly ctx: CentralContext,
    private readonly bus: EventBus,
    instanceId = `central-${process.pid}`,
  ) {
    this.owner = `${instanceId}#${crypto.randomUUID().slice(0, 8)}`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Publishes what is pending (best effort within the deadline), then stops and hands back its leases. */
  async stop(deadlineMs = 5_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (this.loop && Date.now() < until && (await countUnpublished(this.ctx.db).catch(() => 0)) > 0 && this.bus.health().state === "connected") {
      this.kick();
      await delay(50);
    }
    this.abort.abort();
    this.wake?.();
    await this.loop;
    // What we still hold goes to another instance now rather than when the lease runs out.
    if (this.loop) await releaseLeases(this.ctx.db, this.owner).catch(() => 0);
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
        if (this.abort.signal.aborted) break;
        this.ctx.log.warn({ err: error }, "Publishing commands failed; retrying");
        await delay(backoff.next(), this.abort.signal);
      }
    }
    // Stopped between a publish and the next lease: mark what went out (else, after the lease,
    // another instance publishes it again, a duplicate the charger drops by command id).
    if (this.unmarked.length > 0) await this.mark(await markPublished(this.ctx.db, this.unmarked, new Date(this.ctx.clock.now()), this.owner).catch(() => this.unmarked.length));
  }

  /** Counts what the last mark found still ours; a shortfall is a lease lost during the publish. */
  private mark(marked: number): void {
    const ids = this.unmarked;
    this.unmarked = [];
    if (marked < ids.length) {
      // Published, but another instance holds some of the rows by now and publishes them again.
      this.ctx.metrics.outboxLeasesLost.inc();
      this.ctx.log.warn({ owner: this.owner, published: ids.length, taken: ids.length - marked }, "Outbox lease lost during publish");
    }
  }

  private async publishBatch(): Promise<number> {
    const now = new Date(this.ctx.clock.now());
    let rows: CommandRow[];
    if (this.unmarked.length > 0) {
      const { marked, leased } = await markAndLease(this.ctx.db, this.unmarked, now, LEASE_MS, 200, this.owner);
      this.mark(marked);
      rows = leased;
    } else {
      rows = await leaseUnpublished(this.ctx.db, now, LEASE_MS, 200, this.owner);
    }
    if (rows.length === 0) {
      this.ctx.metrics.outboxPending.set(0);
      return 0;
    }
    const ids = rows.map((r) => r.command_id);
    const records = rows.map((row) => {
      const value: CommandRecord = { cpId: row.cp_id, type: row.type, payload: row.payload as Record<string, unknown> };
      return { key: row.cp_id, value: JSON.stringify(value), headers: { "command-id": row.command_id } };
    });
    const lost = new AbortController();
    const stopRenewing = this.keepLease(ids, lost);
    try {
      // Stopping ends a publish that waits for an unreachable Kafka, and so does losing the lease:
      // the new holder publishes these commands (again; chargers drop the duplicate by command id).
      await this.bus.publish(this.ctx.topics.commands, records, { signal: AbortSignal.any([this.abort.signal, lost.signal]) });
    } catch (error) {
      if (!this.abort.signal.aborted) await releaseLeases(this.ctx.db, this.owner).catch(() => 0);
      throw lost.signal.aborted ? lost.signal.reason : error;
    } finally {
      stopRenewing();
    }
    // Marked by the next round's lease statement, which runs at once (this returns > 0).
    this.unmarked = ids;
    for (const row of rows) this.ctx.metrics.commandsPublished.inc({ type: row.type });
    if (Date.now() - this.gaugeAt >= GAUGE_MS) {
      this.gaugeAt = Date.now();
      this.ctx.metrics.outboxPending.set(await countUnpublished(this.ctx.db));
    }
    return rows.length;
  }

  /**
   * Renews the lease on `ids` while their publish is in flight. A renewal that finds rows missing
   * lost them to another instance (our lease ran out, e.g. the database was out of reach): the
   * publish is abandoned, because the new holder publishes them in order with what followed them.
   */
  private keepLease(ids: string[], lost: AbortController): () => void {
    let busy = false;
    let done = false;
    const timer = setInterval(async () => {
      if (busy || done) return;
      busy = true;
      try {
        const held = await renewLease(this.ctx.db, ids, this.owner, new Date(this.ctx.clock.now()), LEASE_MS);
        // `done`: the publish finished and we marked the rows meanwhile; they are not lost.
        if (held.length < ids.length && !done) {
          done = true;
          this.ctx.metrics.outboxLeasesLost.inc();
          this.ctx.log.warn({ owner: this.owner, leased: ids.length, held: held.length }, "Outbox lease lost to another instance; abandoning this publish");
          lost.abort(new Error("outbox lease lost to another instance"));
        }
      } catch (error) {
        // The next tick tries again; if the database stays away the lease runs out, as it should.
        if (!done) this.ctx.log.warn({ err: error }, "Renewing the outbox lease failed");
      } finally {
        busy = false;
      }
    }, RENEW_MS);
    return () => {
      done = true;
      clearInterval(timer);
    };
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
