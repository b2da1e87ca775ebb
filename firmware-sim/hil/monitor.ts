import { delay } from "../../platform/backoff.ts";
import { refresh } from "../scenario/drivers.ts";
import type { ChargePointView, Ledger } from "./ledger.ts";
import { ApiRefusedError, type Rest } from "./rest.ts";

const SMALL_SCOPE = 10;

function refused(what: string, status: number): void {
  if (status === 401 || status === 403) throw new ApiRefusedError(what, status);
  if (status !== 200) throw new Error(`${what} answered ${status}`);
}

export interface StuckReservation {
  reservationId: string;
  cpId: string;
  expiresAt: string;
  /** How long past `expiresAt` it was still `reserved` when the harness looked. */
  overdueMs: number;
}

/**
 * Watches the run through REST while it happens: the charge points in scope (for the progress
 * line and for drivers looking for a free one) and the one invariant that is cheap to check
 * continuously, because only overdue reservations need a request: none stays `reserved` past
 * its expiry plus the grace.
 */
export class Monitor {
  readonly chargePoints = new Map<string, ChargePointView>();
  readonly stuck = new Map<string, StuckReservation>();
  /** Consecutive failed polls; the runner gives up when Central stays unreachable. */
  failures = 0;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly rest: Rest,
    private readonly token: string,
    private readonly scope: ReadonlySet<string>,
    private readonly ledger: Ledger,
    private readonly graceMs: number,
    private readonly everyMs = 1_000,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** Free by the latest view: online, available, and not held by one of our live reservations. */
  free(): string[] {
    const held = this.ledger.liveCpIds();
    return [...this.chargePoints.values()].filter((c) => c.online && c.status === "available" && !held.has(c.cpId)).map((c) => c.cpId);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = { online: 0 };
    for (const c of this.chargePoints.values()) {
      if (c.online) out.online! += 1;
      out[c.status] = (out[c.status] ?? 0) + 1;
    }
    return out;
  }

  async poll(): Promise<void> {
    // A few charge points on a big real system: ask for each, not for the whole list every second.
    if (this.scope.size <= SMALL_SCOPE) await Promise.all([...this.scope].map((cpId) => this.pollOne(cpId)));
    else {
      const res = await this.rest.call<ChargePointView[]>("GET", "/v1/charge-points", this.token);
      refused("GET /v1/charge-points", res.status);
      for (const cp of res.body) if (this.scope.has(cp.cpId)) this.chargePoints.set(cp.cpId, cp);
    }
    await this.checkOverdue();
  }

  private async pollOne(cpId: string): Promise<void> {
    const res = await this.rest.call<ChargePointView>("GET", `/v1/charge-points/${encodeURIComponent(cpId)}`, this.token);
    if (res.status === 404) return void this.chargePoints.delete(cpId);
    refused(`GET /v1/charge-points/${cpId}`, res.status);
    this.chargePoints.set(cpId, res.body);
  }

  /** Re-reads only reservations that should have ended by now; any still `reserved` is stuck. */
  async checkOverdue(): Promise<void> {
    const now = Date.now();
    for (const entry of this.ledger.live()) {
      if (entry.status !== "reserved" || now <= Date.parse(entry.expiresAt) + this.graceMs) continue;
      await refresh({ rest: this.rest, ledger: this.ledger }, entry);
      const overdueMs = Date.now() - Date.parse(entry.expiresAt);
      if (entry.status === "reserved" && overdueMs > this.graceMs) {
        const known = this.stuck.get(entry.reservationId);
        this.stuck.set(entry.reservationId, { reservationId: entry.reservationId, cpId: entry.cpId, expiresAt: entry.expiresAt, overdueMs: Math.max(overdueMs, known?.overdueMs ?? 0) });
      }
    }
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.poll();
        this.failures = 0;
      } catch {
        this.failures += 1;
      }
      await delay(this.everyMs, this.abort.signal);
    }
  }
}
