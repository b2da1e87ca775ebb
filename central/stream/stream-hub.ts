import type { Db } from "../db/db.ts";
import type { Logger } from "../../platform/logger.ts";
import { readChangesAfter, type ChangeRow } from "./change-log.ts";
import { changeToView, sseFrame } from "./change-views.ts";
import type { StreamMetrics } from "./stream-metrics.ts";

/** A change as fanned out: rendered once, filtered per client by kind and driver. */
export interface StreamChange {
  id?: number;
  kind: ChangeRow["kind"];
  driverId: string | null;
  frame: string;
}

export interface StreamSubscriber {
  offer(change: StreamChange): void;
  comment(text: string): void;
  end(reason: "server_stopped"): void;
}

export interface StreamHubOptions {
  db: Db;
  log: Logger;
  metrics: StreamMetrics;
  now: () => number;
  staleMs: number;
  /** Fallback read interval: NOTIFY makes delivery immediate, this bounds it when NOTIFY is lost (PgBouncer). */
  pollMs: number;
  keepAliveMs: number;
  /** How long a missing id holds back later ones before it is given up as rolled back. */
  gapWaitMs?: number;
}

const CHANNEL = "chargebridge_stream";
const BATCH = 500;

/**
 * One per Central instance: follows the change log (migration 11) in id order and hands each
 * change to every connected client. Any instance's writes arrive here through NOTIFY (PostgreSQL)
 * or PGlite's in-process notifications, so a client sees every change whichever instance made it.
 *
 * Ids come from a sequence, so a transaction can commit id 11 before another commits id 10. The
 * hub delivers in id order and waits up to `gapWaitMs` for a missing id before it gives it up as
 * rolled back; that keeps `cursor` meaning "everything up to here was delivered", which is what
 * makes Last-Event-ID resume exact.
 */
export class StreamHub {
  private cursor = 0;
  private readonly subscribers = new Set<StreamSubscriber>();
  private running: Promise<void> | undefined;
  private again = false;
  private gapSince: number | undefined;
  private timers: ReturnType<typeof setInterval>[] = [];
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private stopped = false;
  private readonly gapWaitMs: number;
  /** Per gateway, whether it was last shown stale; a gateway going silent writes nothing to the log. */
  private readonly gatewayStale = new Map<string, { row: ChangeRow; stale: boolean }>();

  constructor(private readonly o: StreamHubOptions) {
    this.gapWaitMs = o.gapWaitMs ?? 500;
  }

  /** The id up to which every change has been handed to subscribers. */
  position(): number {
    return this.cursor;
  }

  size(): number {
    return this.subscribers.size;
  }

  async start(): Promise<void> {
    const [row] = await this.o.db.query<{ id: string | null }>("SELECT max(id)::text AS id FROM stream_changes");
    this.cursor = row?.id ? Number(row.id) : 0;
    this.unlisten = await this.o.db.listen(CHANNEL, () => this.kick());
    this.timers.push(setInterval(() => this.kick(), this.o.pollMs));
    this.timers.push(setInterval(() => this.broadcastComment("keep-alive"), this.o.keepAliveMs));
    this.timers.push(setInterval(() => this.checkStale(), Math.min(1_000, this.o.staleMs)));
    for (const t of this.timers) t.unref?.();
  }

  subscribe(s: StreamSubscriber): () => void {
    this.subscribers.add(s);
    this.o.metrics.clients.set(this.subscribers.size);
    return () => {
      this.subscribers.delete(s);
      this.o.metrics.clients.set(this.subscribers.size);
    };
  }

  /** Reads what is new; concurrent kicks fold into one more read. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) return void (this.again = true);
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.drain();
        } while (this.again && !this.stopped);
      } catch (error) {
        this.o.log.warn({ err: error }, "Stream change log read failed; the next poll retries");
      } finally {
        this.running = undefined;
      }
    })();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const rows = await readChangesAfter(this.o.db, this.cursor, BATCH);
      for (const row of rows) {
        if (row.id !== this.cursor + 1) {
          const now = Date.now();
          this.gapSince ??= now;
          if (now - this.gapSince < this.gapWaitMs) {
            this.scheduleGapRetry(this.gapWaitMs - (now - this.gapSince));
            return;
          }
          this.o.metrics.gapsSkipped.inc(row.id - this.cursor - 1);
        }
        this.gapSince = undefined;
        this.cursor = row.id;
        this.deliver(row);
      }
      if (rows.length < BATCH) return;
    }
  }

  private scheduleGapRetry(ms: number): void {
    if (this.gapTimer) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      this.kick();
    }, Math.max(10, ms));
  }

  /** Renders a log row into the change every client is offered. */
  render(row: ChangeRow): StreamChange {
    return { id: row.id, kind: row.kind, driverId: row.driver_id, frame: sseFrame(row.kind, changeToView(row, this.o.now(), this.o.staleMs), row.id) };
  }

  private deliver(row: ChangeRow): void {
    this.o.metrics.events.inc();
    if (row.kind === "gateway") this.gatewayStale.set(row.entity_id, { row, stale: false });
    const change = this.render(row);
    for (const s of this.subscribers) s.offer(change);
  }

  /** A silent gateway turns stale with nothing written; this pushes that as an id-less `gateway` event. */
  private checkStale(): void {
    try {
      this.pushStaleChanges();
    } catch (error) {
      this.o.log.warn({ err: error }, "Gateway staleness check failed");
    }
  }

  private pushStaleChanges(): void {
    for (const [gatewayId, entry] of this.gatewayStale) {
      const view = changeToView(entry.row, this.o.now(), this.o.staleMs) as { stale: boolean };
      if (view.stale === entry.stale) continue;
      entry.stale = view.stale;
      if (view.stale) this.o.log.warn({ gatewayId }, "Gateway silent beyond GATEWAY_STALE_SECONDS; shown stale");
      const change: StreamChange = { kind: "gateway", driverId: null, frame: sseFrame("gateway", view) };
      for (const s of this.subscribers) s.offer(change);
    }
  }

  private broadcastComment(text: string): void {
    for (const s of this.subscribers) s.comment(text);
  }

  /** Ends every open stream first, so an HTTP server's graceful close is not held open by them. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of [...this.subscribers]) s.end("server_stopped");
    for (const t of this.timers) clearInterval(t);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    await this.running;
    await this.unlisten?.().catch(() => {});
  }
}
