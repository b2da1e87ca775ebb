import type { ChargerStatus, DownstreamMessage, UpstreamPayload, UpstreamType } from "../protocol/index.ts";
import { EvBattery, evProfile, type EvProfile } from "./power-curve.ts";
import { ReservationHold } from "./reservation-hold.ts";

export type Outgoing<T extends UpstreamType> = Omit<UpstreamPayload<T>, "id" | "ts">;

/** How the firmware hands a message to its transport; `onAcked` runs once the platform has it durably. */
export type SendFn = <T extends UpstreamType>(type: T, fields: Outgoing<T>, onAcked?: () => void) => string;

/** The car plugged in for each session: fixed, or drawn anew per session (every driver brings another car). */
export type EvOption = Partial<EvProfile> | (() => Partial<EvProfile>);

export interface FirmwareOptions {
  cpId: string;
  /** Interval of meter values while charging. */
  meterMs?: number;
  /** The charger's own power limit; the plateau is the lower of this and the car's. */
  powerW?: number;
  /** The charger's clock offset from real time, to exercise event-time rules. */
  clockSkewMs?: number;
  ev?: EvOption;
  /** End the session with `charging_stopped` reason `ev_full` when the car is full (default true). */
  stopWhenFull?: boolean;
}

/** What the charger did with each command: the evidence for "every command answered". */
export interface CommandLogEntry {
  id: string;
  type: DownstreamMessage["type"];
  reservationId: string;
  accepted: boolean;
  reason?: string;
  /** The platform acknowledged our command_result (PUBACK). */
  acked: boolean;
}

export interface SessionLogEntry {
  reservationId: string;
  meterStartWh: number;
  meterStopWh: number | null;
  reason: string | null;
}

const REMEMBERED_IDS = 1024;

/**
 * Charge point behaviour independent of the transport: reservations held on the charger's own
 * clock, sessions metered along a power curve, faults. The MQTT side lives in SimCharger.
 */
export class ChargePointFirmware {
  status: ChargerStatus = "available";
  reservation: { reservationId: string; expiresAt: number } | null = null;
  charging: { reservationId: string; meterStartWh: number } | null = null;
  /** The meter register; it starts anywhere, as on a charger that has been in service for years. */
  meterWh = 1_000_000 * Math.random();
  readonly received: DownstreamMessage[] = [];
  readonly commands = new Map<string, CommandLogEntry>();
  readonly sessions: SessionLogEntry[] = [];
  localExpiries = 0;
  private hold: ReservationHold | null = null;
  private battery: EvBattery | null = null;
  private meterTimer: ReturnType<typeof setTimeout> | undefined;
  private lastAccrueAt = 0;
  /** Bounded like real firmware memory: QoS 1 duplicates arrive close together. */
  private readonly seen: string[] = [];
  private readonly ended: string[] = [];

  constructor(
    private readonly options: FirmwareOptions,
    private readonly send: SendFn,
  ) {}

  /** The charger's clock. */
  now(): number {
    return Date.now() + (this.options.clockSkewMs ?? 0);
  }

  get powerW(): number {
    return this.battery ? Math.round(this.battery.powerW) : 0;
  }

  get soc(): number | null {
    return this.battery?.soc ?? null;
  }

  /** Applies a command once (QoS 1 may deliver it twice) and answers it with command_result. */
  handle(command: DownstreamMessage): void {
    const id = command.payload.id;
    if (this.seen.includes(id)) return;
    remember(this.seen, id);
    this.received.push(command);
    if (this.received.length > REMEMBERED_IDS) this.received.shift();
    const reason = this.apply(command);
    const entry: CommandLogEntry = {
      id,
      type: command.type,
      reservationId: command.payload.reservationId,
      accepted: reason === null,
      ...(reason ? { reason } : {}),
      acked: false,
    };
    this.commands.set(id, entry);
    this.send("command_result", { commandId: id, accepted: reason === null, ...(reason ? { reason } : {}) }, () => {
      entry.acked = true;
    });
  }

  fault(code: string, message: string): void {
    // A fault opens the contactors: the session ends with the energy delivered so far.
    if (this.charging) this.endSession("fault");
    this.releaseHold();
    this.status = "faulted";
    this.send("fault", { code, message });
    this.send("status", { status: "faulted" });
  }

  clearFault(): void {
    this.status = this.charging ? "charging" : this.reservation ? "reserved" : "available";
    this.send("fault_cleared", {});
    this.send("status", { status: this.status });
  }

  /** Energy starts flowing for a reservation (remote start, or a local authorisation). */
  beginSession(reservationId: string): void {
    this.releaseHold();
    const ev = typeof this.options.ev === "function" ? this.options.ev() : (this.options.ev ?? {});
    const limit = Math.min(this.options.powerW ?? 11_000, ev.maxPowerW ?? Number.POSITIVE_INFINITY);
    this.battery = new EvBattery(evProfile({ ...ev, maxPowerW: limit }));
    this.charging = { reservationId, meterStartWh: Math.round(this.meterWh) };
    this.sessions.push({ reservationId, meterStartWh: this.charging.meterStartWh, meterStopWh: null, reason: null });
    this.send("charging_started", { reservationId, meterStartWh: this.charging.meterStartWh });
    this.setStatus("charging");
    this.lastAccrueAt = Date.now();
    this.scheduleMeter();
  }

  stopCharging(reason: string): void {
    if (!this.charging) return;
    this.endSession(reason);
    this.setStatus(this.status === "faulted" ? "faulted" : "available");
  }

  /** Timers off; the charger is being switched off. */
  shutdown(): void {
    clearTimeout(this.meterTimer);
    this.hold?.release();
  }

  /** Returns null when accepted, else the reason for refusing. */
  private apply(command: DownstreamMessage): string | null {
    const { reservationId } = command.payload;
    switch (command.type) {
      case "reserve": {
        if (this.status !== "available") return `charger is ${this.status}`;
        const expiresAt = Date.parse(command.payload.expiresAt);
        if (expiresAt <= this.now()) return "expiresAt is already past by the charger's clock";
        this.reservation = { reservationId, expiresAt };
        this.hold = new ReservationHold(reservationId, expiresAt, () => this.now(), (h) => this.onHoldExpired(h));
        this.setStatus("reserved");
        return null;
      }
      case "cancel_reservation":
        if (this.reservation?.reservationId === reservationId) {
          this.releaseHold();
          if (this.status === "reserved") this.setStatus("available");
          return null;
        }
        // Already released (expired here first, or faulted): the desired state holds, so yes.
        return this.ended.includes(reservationId) ? null : "unknown reservation";
      case "start":
        if (this.charging?.reservationId === reservationId) return null; // the same start again
        if (this.status === "faulted") return "charger is faulted";
        if (this.reservation?.reservationId !== reservationId) {
          return this.ended.includes(reservationId) ? "reservation expired on the charger" : "unknown reservation";
        }
        this.beginSession(reservationId);
        return null;
      case "stop":
        if (this.charging?.reservationId !== reservationId) return "not charging this reservation";
        this.stopCharging("remote");
        return null;
    }
  }

  private onHoldExpired(hold: ReservationHold): void {
    if (this.reservation?.reservationId !== hold.reservationId) return;
    this.localExpiries += 1;
    this.releaseHold();
    if (this.status === "reserved") this.setStatus("available");
  }

  private releaseHold(): void {
    if (this.reservation) remember(this.ended, this.reservation.reservationId);
    this.hold?.release();
    this.hold = null;
    this.reservation = null;
  }

  private setStatus(status: ChargerStatus): void {
    this.status = status;
    this.send("status", { status });
  }

  /**
   * Meter values every `meterMs`; when the car will be full before the next one, the tick comes
   * early so the session ends at the moment the car stops drawing, as the EV itself would end it.
   */
  private scheduleMeter(): void {
    const meterMs = this.options.meterMs ?? 10_000;
    const untilFull = this.options.stopWhenFull === false ? null : this.battery!.msUntilFull(meterMs);
    const delay = untilFull !== null && untilFull < meterMs ? untilFull : meterMs;
    this.meterTimer = setTimeout(() => {
      if (!this.charging || !this.battery) return;
      this.accrue();
      if (this.battery.full && this.options.stopWhenFull !== false) return this.stopCharging("ev_full");
      this.send("meter", { reservationId: this.charging.reservationId, energyWh: Math.round(this.meterWh), powerW: this.powerW });
      this.scheduleMeter();
    }, delay);
  }

  /** The register counts energy by elapsed time, so a stop between two meter values is exact. */
  private accrue(): void {
    const now = Date.now();
    if (this.battery) this.meterWh += this.battery.advance(now - this.lastAccrueAt);
    this.lastAccrueAt = now;
  }

  private endSession(reason: string): void {
    clearTimeout(this.meterTimer);
    this.accrue();
    const { reservationId } = this.charging!;
    const meterStopWh = Math.round(this.meterWh);
    const log = this.sessions.findLast((s) => s.reservationId === reservationId && s.meterStopWh === null);
    if (log) Object.assign(log, { meterStopWh, reason });
    this.charging = null;
    this.battery = null;
    this.send("charging_stopped", { reservationId, meterStopWh, reason });
  }
}

function remember(list: string[], id: string): void {
  list.push(id);
  if (list.length > REMEMBERED_IDS) list.shift();
}
