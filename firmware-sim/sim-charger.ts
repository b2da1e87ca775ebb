import mqtt, { type MqttClient } from "mqtt";
import {
  decodeDownstream,
  downFilter,
  parseTopic,
  upTopic,
  type ChargerStatus,
  type DownstreamMessage,
  type UpstreamPayload,
  type UpstreamType,
} from "../protocol/index.ts";

export interface SimChargerOptions {
  url: string;
  cpId: string;
  password: string;
  vendor?: string;
  model?: string;
  firmware?: string;
  heartbeatMs?: number;
  meterMs?: number;
  /** Charging power while a session runs. */
  powerW?: number;
  /** The charger's clock offset from real time, to exercise event-time rules. */
  clockSkewMs?: number;
  reconnectMs?: number;
}

type Outgoing<T extends UpstreamType> = Omit<UpstreamPayload<T>, "id" | "ts">;

/**
 * One simulated charge point speaking wire contract v1: persistent session (clean=false), QoS 1
 * both ways, commands answered with command_result, duplicates of a command ignored by its id.
 * While disconnected, mqtt.js keeps its outgoing messages and sends them on reconnect, like a
 * real charger's transaction buffer.
 */
export class SimCharger {
  readonly cpId: string;
  status: ChargerStatus = "available";
  reservation: { reservationId: string; expiresAt: number } | null = null;
  charging: { reservationId: string; meterStartWh: number } | null = null;
  meterWh = 1_000_000 * Math.random();
  readonly received: DownstreamMessage[] = [];
  private client: MqttClient | null = null;
  private seq = 0;
  private readonly bootId = crypto.randomUUID().slice(0, 8);
  private readonly seen = new Set<string>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private meter: ReturnType<typeof setInterval> | undefined;
  private connectedOnce = false;
  private lastMeterAt = 0;

  constructor(private readonly options: SimChargerOptions) {
    this.cpId = options.cpId;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Resolves on the first successful connection; reconnects by itself after that. */
  start(): Promise<void> {
    const o = this.options;
    const client = mqtt.connect(o.url, {
      clientId: o.cpId,
      username: o.cpId,
      password: o.password,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: o.reconnectMs ?? 1_000,
      connectTimeout: 10_000,
    });
    this.client = client;
    client.on("message", (topic, payload) => this.onMessage(topic, payload));
    client.on("connect", (connack) => {
      // MQTT-3.2.2-2: sessionPresent tells us whether the broker kept our subscription.
      if (!connack.sessionPresent) client.subscribe(downFilter(o.cpId), { qos: 1 });
      if (!this.connectedOnce) {
        this.connectedOnce = true;
        this.send("boot", { vendor: o.vendor ?? "ChargeBridge", model: o.model ?? "SimCharger", firmware: o.firmware ?? "sim-1.0" });
      }
      this.send("status", { status: this.status });
    });
    this.heartbeat = setInterval(() => this.send("heartbeat", {}), o.heartbeatMs ?? 30_000);
    return new Promise((resolve) => client.once("connect", () => resolve()));
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.meter);
    await this.client?.endAsync();
  }

  /** Drops the connection without a DISCONNECT, as a network failure would. */
  dropConnection(): void {
    this.client?.stream.destroy();
  }

  fault(code: string, message: string): void {
    this.status = "faulted";
    this.send("fault", { code, message });
    this.send("status", { status: "faulted" });
  }

  clearFault(): void {
    this.status = this.charging ? "charging" : this.reservation ? "reserved" : "available";
    this.send("fault_cleared", {});
    this.send("status", { status: this.status });
  }

  send<T extends UpstreamType>(type: T, fields: Outgoing<T>): string {
    const id = `${this.cpId}-${this.bootId}-${++this.seq}`;
    const ts = new Date(Date.now() + (this.options.clockSkewMs ?? 0)).toISOString();
    this.client?.publish(upTopic(this.cpId, type), JSON.stringify({ id, ts, ...fields }), { qos: 1 });
    return id;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.direction !== "down") return;
    const decoded = decodeDownstream(parsed.type, payload);
    if (!decoded.ok) return;
    const command = decoded.value;
    if (this.seen.has(command.payload.id)) return; // QoS 1 may deliver twice
    this.seen.add(command.payload.id);
    this.received.push(command);
    const reason = this.apply(command);
    this.send("command_result", { commandId: command.payload.id, accepted: reason === null, ...(reason ? { reason } : {}) });
  }

  /** Returns null when accepted, else the reason for refusing. */
  private apply(command: DownstreamMessage): string | null {
    const { reservationId } = command.payload;
    switch (command.type) {
      case "reserve":
        if (this.status !== "available") return `charger is ${this.status}`;
        this.reservation = { reservationId, expiresAt: Date.parse(command.payload.expiresAt) };
        this.setStatus("reserved");
        return null;
      case "cancel_reservation":
        if (this.reservation?.reservationId !== reservationId) return "unknown reservation";
        this.reservation = null;
        if (this.status === "reserved") this.setStatus("available");
        return null;
      case "start":
        if (this.status === "faulted") return "charger is faulted";
        if (this.reservation?.reservationId !== reservationId) return "unknown reservation";
        this.startCharging(reservationId);
        return null;
      case "stop":
        if (this.charging?.reservationId !== reservationId) return "not charging this reservation";
        this.stopCharging("remote");
        return null;
    }
  }

  private setStatus(status: ChargerStatus): void {
    this.status = status;
    this.send("status", { status });
  }

  private startCharging(reservationId: string): void {
    this.reservation = null;
    this.charging = { reservationId, meterStartWh: Math.round(this.meterWh) };
    this.send("charging_started", { reservationId, meterStartWh: this.charging.meterStartWh });
    this.setStatus("charging");
    this.lastMeterAt = Date.now();
    this.meter = setInterval(() => {
      this.accrue();
      this.send("meter", { reservationId, energyWh: Math.round(this.meterWh), powerW: this.options.powerW ?? 11_000 });
    }, this.options.meterMs ?? 10_000);
  }

  /** The register counts energy by elapsed time, so a stop between two meter values is exact. */
  private accrue(): void {
    const now = Date.now();
    this.meterWh += ((this.options.powerW ?? 11_000) * (now - this.lastMeterAt)) / 3_600_000;
    this.lastMeterAt = now;
  }

  stopCharging(reason: string): void {
    if (!this.charging) return;
    clearInterval(this.meter);
    this.accrue();
    const { reservationId } = this.charging;
    this.charging = null;
    this.send("charging_stopped", { reservationId, meterStopWh: Math.round(this.meterWh), reason });
    this.setStatus("available");
  }
}
