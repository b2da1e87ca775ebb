import type { Aedes, AedesPublishPacket, Client, Subscription } from "aedes";
import type { Clock } from "../../platform/clock.ts";
import type { Logger } from "../../platform/logger.ts";
import { downFilter, downTopic, parseTopic, type UpEvent } from "../../protocol/index.ts";
import type { DurableQueue } from "../queue/durable-queue.ts";
import { encodeQueueRecord } from "../queue-record.ts";
import type { CommandStore, PendingCommand } from "./command-store.ts";

export interface CommandDeliveryDeps {
  broker: Aedes;
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
 * Gets each command to its charger at least once, across charger reconnects and gateway restarts:
 * a command stays in the store until the charger PUBACKs it or answers it, and is published again
 * whenever the charger (re)connects or subscribes. One that cannot be delivered in time is
 * reported to Central as a `command_result` with `accepted: false, reason: "expired"`.
 */
export class CommandDelivery {
  /** The live connection per charger; a takeover's old connection must not unregister the new one. */
  private readonly connected = new Map<string, Client>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly deps: CommandDeliveryDeps) {
    const { broker } = deps;
    broker.on("clientReady", (client: Client) => {
      this.connected.set(client.id, client);
      void deps.store.addCharger(client.id);
      this.redeliver(client.id);
    });
    broker.on("clientDisconnect", (client: Client) => {
      if (this.connected.get(client.id) === client) this.connected.delete(client.id);
    });
    // A charger without a kept session subscribes after CONNACK; publish again once it can receive.
    broker.on("subscribe", (subs: Subscription[], client: Client) => {
      if (client && subs.some((s) => s.topic === downFilter(client.id) || parseTopic(s.topic)?.cpId === client.id)) {
        this.redeliver(client.id);
      }
    });
    broker.on("ack", (packet) => {
      const id = jsonField((packet as { payload?: unknown } | undefined)?.payload, "id");
      if (id) void deps.store.done(id);
    });
    broker.on("publish", (packet: AedesPublishPacket, client: Client | null) => {
      if (!client) return;
      const topic = parseTopic(packet.topic);
      if (topic?.direction !== "up" || topic.type !== "command_result") return;
      const answered = jsonField(packet.payload, "commandId");
      if (answered) void deps.store.done(answered);
    });
  }

  holdsSession(cpId: string): boolean {
    return this.connected.has(cpId) || this.deps.store.holds(cpId);
  }

  /** Stores the command (durably, before the bus offset is committed) and sends it if it can. */
  async accept(cpId: string, type: string, payload: PendingCommand["payload"]): Promise<void> {
    const now = this.deps.clock.now();
    let expiresAt = now + this.deps.ttlMs;
    // A reserve that arrives after its reservation ended is pointless; let it lapse with it.
    if (type === "reserve" && typeof payload.expiresAt === "string") expiresAt = Math.min(expiresAt, Date.parse(payload.expiresAt));
    const cmd: PendingCommand = { cpId, type, payload, expiresAt };
    await this.deps.store.add(cmd);
    if (this.connected.has(cpId)) this.publish(cmd);
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

  private redeliver(cpId: string): void {
    for (const cmd of this.deps.store.forCharger(cpId)) this.publish(cmd);
  }

  private publish(cmd: PendingCommand): void {
    this.deps.broker.publish(
      { cmd: "publish", topic: downTopic(cmd.cpId, cmd.type), payload: Buffer.from(JSON.stringify(cmd.payload)), qos: 1, retain: false, dup: false },
      (error?: Error) => {
        if (error) this.deps.log.warn({ err: error, cpId: cmd.cpId }, "Command publish failed; will retry on reconnect");
        else this.deps.onDelivered(cmd.type);
      },
    );
  }
}

/** One string field of a JSON payload, or undefined for anything unparseable. */
function jsonField(payload: unknown, key: string): string | undefined {
  try {
    const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload as Uint8Array);
    const value = (JSON.parse(text) as Record<string, unknown>)[key];
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}
