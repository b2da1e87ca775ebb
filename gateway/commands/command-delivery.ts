import type { Clock } from "../../platform/clock.ts";
import type { Logger } from "../../platform/logger.ts";
import type { UpEvent } from "../../protocol/index.ts";
import type { DurableQueue } from "../queue/durable-queue.ts";
import { encodeQueueRecord } from "../queue-record.ts";
import type { CommandStore, PendingCommand } from "./command-store.ts";

/** One live connection's way to hand a command to its charger (an MQTT publish, an OCPP call). */
export interface CommandLink {
  send(cmd: PendingCommand): void;
}

export interface CommandDeliveryDeps {
  store: CommandStore;
  queue: DurableQueue;
  gatewayId: string;
  clock: Clock;
  log: Logger;
  ttlMs: number;
  onDelivered(type: string): void;
  onExpired(type: string): void;
}

/**
 * Gets each command to its charger at least once, across charger reconnects and gateway restarts,
 * whatever the transport: a command stays in the store until the charger takes it (MQTT PUBACK)
 * or answers it (`command_result`, an OCPP CALLRESULT), and is sent again whenever the charger
 * (re)connects. One that cannot be delivered in time is reported to Central as a `command_result`
 * with `accepted: false, reason: "expired"`. The transports are thin adapters that call
 * `online`/`offline`/`redeliver`/`done` (mqtt-command-adapter.ts, ocpp/command-adapter.ts).
 */
export class CommandDelivery {
  /** The live link per charger; a takeover's old connection must not unregister the new one. */
  private readonly links = new Map<string, CommandLink>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly deps: CommandDeliveryDeps) {}

  /** A charger's connection is ready for commands: remember that we hold it, send what waits. */
  online(cpId: string, link: CommandLink): void {
    this.links.set(cpId, link);
    void this.deps.store.addCharger(cpId);
    this.redeliver(cpId);
  }

  offline(cpId: string, link: CommandLink): void {
    if (this.links.get(cpId) === link) this.links.delete(cpId);
  }

  isOnline(cpId: string): boolean {
    return this.links.has(cpId);
  }

  holdsSession(cpId: string): boolean {
    return this.links.has(cpId) || this.deps.store.holds(cpId);
  }

  /** Stores the command (durably, before the bus offset is committed) and sends it if it can. */
  async accept(cpId: string, type: string, payload: PendingCommand["payload"]): Promise<void> {
    const now = this.deps.clock.now();
    let expiresAt = now + this.deps.ttlMs;
    // A reserve that arrives after its reservation ended is pointless; let it lapse with it.
    if (type === "reserve" && typeof payload.expiresAt === "string") expiresAt = Math.min(expiresAt, Date.parse(payload.expiresAt));
    const cmd: PendingCommand = { cpId, type, payload, expiresAt };
    await this.deps.store.add(cmd);
    this.links.get(cpId)?.send(cmd);
  }

  /** Taken or answered: forget it. Returns the command if it was pending. */
  done(id: string): Promise<PendingCommand | undefined> {
    return this.deps.store.done(id);
  }

  /** Whether a command is still waiting (not yet taken, answered or expired). */
  pending(cpId: string): PendingCommand[] {
    return this.deps.store.forCharger(cpId);
  }

  delivered(type: string): void {
    this.deps.onDelivered(type);
  }

  redeliver(cpId: string): void {
    const link = this.links.get(cpId);
    if (!link) return;
    for (const cmd of this.deps.store.forCharger(cpId)) link.send(cmd);
  }

  start(sweepMs = 1_000): void {
    this.timer ??= setInterval(() => void this.expire(), sweepMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async expire(): Promise<number> {
    const due = this.deps.store.expired(this.deps.clock.now());
    for (const cmd of due) {
      if (!(await this.deps.store.done(cmd.payload.id))) continue;
      const at = new Date(this.deps.clock.now()).toISOString();
      const event: UpEvent = {
        kind: "up",
        cpId: cmd.cpId,
        type: "command_result",
        payload: { id: `gw-expired-${cmd.payload.id}`, ts: at, commandId: cmd.payload.id, accepted: false, reason: "expired" },
        gatewayId: this.deps.gatewayId,
        receivedAt: at,
      };
      await this.deps.queue.append(encodeQueueRecord({ topic: "events", key: cmd.cpId, value: JSON.stringify(event) })).durable;
      this.deps.onExpired(cmd.type);
      this.deps.log.warn({ cpId: cmd.cpId, commandId: cmd.payload.id, type: cmd.type }, "Command expired before its charger took it");
    }
    return due.length;
  }
}
