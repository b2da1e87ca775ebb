/** Central's REST views, as docs/protocol.md defines them (only the fields the harness reads). */
export type ReservationStatus = "reserved" | "charging" | "completed" | "expired" | "cancelled";

export interface ReservationView {
  reservationId: string;
  cpId: string;
  status: ReservationStatus;
  expiresAt: string;
  startedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
}

export interface ChargePointView {
  cpId: string;
  status: string;
  online: boolean;
  reportedStatus: string | null;
}

export interface SessionView {
  sessionId: string;
  reservationId: string;
  cpId: string;
  energyWh: number | null;
  powerW: number | null;
  startedAt: string;
  stoppedAt: string | null;
  stopReason: string | null;
  late: boolean;
}

export type DriverPlan = "charge" | "no_show" | "cancel";

export interface LedgerEntry extends ReservationView {
  driverToken: string;
  plan: DriverPlan;
  /** When the harness last saw this state (harness clock). */
  seenAt: number;
}

export const TERMINAL: ReadonlySet<ReservationStatus> = new Set(["completed", "expired", "cancelled"]);

/**
 * Everything the harness did through the API and the last state it saw: the invariants are
 * judged over this, so they hold for exactly the reservations this run created, whoever else
 * uses the same Central.
 */
export class Ledger {
  readonly reservations = new Map<string, LedgerEntry>();
  readonly driverTokens: string[] = [];
  private readonly counts = new Map<string, number>();

  count(outcome: string, n = 1): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + n);
  }

  outcomes(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  addDriver(token: string): void {
    this.driverTokens.push(token);
  }

  add(view: ReservationView, driverToken: string, plan: DriverPlan): LedgerEntry {
    const entry: LedgerEntry = { ...view, driverToken, plan, seenAt: Date.now() };
    this.reservations.set(view.reservationId, entry);
    return entry;
  }

  /** Records a fresh view; a reservation's status only moves forward, so a stale answer is ignored. */
  update(view: ReservationView): LedgerEntry | undefined {
    const entry = this.reservations.get(view.reservationId);
    if (!entry) return undefined;
    if (TERMINAL.has(entry.status) && !TERMINAL.has(view.status)) return entry;
    Object.assign(entry, view, { seenAt: Date.now() });
    return entry;
  }

  live(): LedgerEntry[] {
    return [...this.reservations.values()].filter((r) => !TERMINAL.has(r.status));
  }

  liveCpIds(): Set<string> {
    return new Set(this.live().map((r) => r.cpId));
  }
}
