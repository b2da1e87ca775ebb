import mqtt, { type MqttClient } from "mqtt";
import { decodeDownstream, downFilter, parseTopic, upTopic, type ChargerStatus, type DownstreamMessage, type UpstreamType } from "../protocol/index.ts";
import type { ChargerStats, FleetCharger } from "./charger.ts";
import { ChargePointFirmware, type EvOption, type Outgoing } from "./firmware.ts";
import { OfflineBuffer, type BufferedMessage } from "./offline-buffer.ts";
import { jitteredReconnect, type ReconnectControl } from "./reconnect.ts";

export interface SimChargerOptions {
  /** How long refused credentials are retried before start() fails (a new charger's hash is still travelling). Default 15 s. */
  authGraceMs?: number;
  url: string;
  cpId: string;
  password: string;
  vendor?: string;
  model?: string;
  firmware?: string;
  heartbeatMs?: number;
  meterMs?: number;
  /** The charger's power limit; the session's plateau is the lower of this and the car's. */
  powerW?: number;
  /** The charger's clock offset from real time, to exercise event-time rules. */
  clockSkewMs?: number;
  /** First reconnect delay; later ones back off exponentially with jitter up to `reconnectMaxMs`. */
  reconnectMs?: number;
  reconnectMaxMs?: number;
  /** The car of each session (battery, state of charge, limits); see power-curve.ts. */
  ev?: EvOption;
  /** End a session with `ev_full` when the car is full (default true). */
  stopWhenFull?: boolean;
  /** Messages kept while disconnected (default 1000); see offline-buffer.ts for what goes first. */
  bufferSize?: number;
}

export type SimChargerStats = ChargerStats;

/**
 * One simulated charge point speaking wire contract v1: persistent session (clean=false), QoS 1
 * both ways, commands answered with command_result, duplicates of a command ignored by its id.
 * While the link is down, its messages go to a bounded offline buffer and are sent in order on
 * reconnect; messages already handed to mqtt.js but not yet acknowledged stay in mqtt.js's
 * outgoing store and are retransmitted by it first. Behaviour lives in ChargePointFirmware.
 */
export class SimCharger implements FleetCharger {
  readonly cpId: string;
  readonly firmware: ChargePointFirmware;
  private client: MqttClient | null = null;
  private link: ReconnectControl | null = null;
  /** Our own view of the link: true only once the session is resumed and our buffer may flush. */
  private linkUp = false;
  private seq = 0;
  private readonly bootId = crypto.randomUUID().slice(0, 8);
  private readonly buffer: OfflineBuffer;
  private heartbeat: ReturnType<typeof setTimeout> | undefined;
  private connectedOnce = false;
  private produced = 0;
  private acked = 0;
  private connects = 0;

  constructor(private readonly options: SimChargerOptions) {
    this.cpId = options.cpId;
    this.buffer = new OfflineBuffer(options.bufferSize ?? 1_000);
    this.firmware = new ChargePointFirmware(
      { cpId: options.cpId, meterMs: options.meterMs, powerW: options.powerW, clockSkewMs: options.clockSkewMs, ev: options.ev, stopWhenFull: options.stopWhenFull },
      (type, fields, onAcked) => this.send(type, fields, onAcked),
    );
  }

  get status(): ChargerStatus {
    return this.firmware.status;
  }
  get reservation(): { reservationId: string; expiresAt: number } | null {
    return this.firmware.reservation;
  }
  get charging(): { reservationId: string; meterStartWh: number } | null {
    return this.firmware.charging;
  }
  get meterWh(): number {
    return this.firmware.meterWh;
  }
  get received(): DownstreamMessage[] {
    return this.firmware.received;
  }
  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  stats(): SimChargerStats {
    return { produced: this.produced, acked: this.acked, connects: this.connects, buffer: this.buffer.stats() };
  }

  /**
   * Resolves on the first successful connection and reconnects by itself after that. Rejects
   * if the gateway refuses the credentials: retrying a wrong secret forever helps nobody.
   */
  start(): Promise<void> {
    const o = this.options;
    const client = mqtt.connect(o.url, {
      clientId: o.cpId,
      username: o.cpId,
      password: o.password,
      clean: false,
      protocolVersion: 4,
      connectTimeout: 10_000,
      // mqtt.js gives up for good after any refused CONNACK by default. Firmware must not: "server
      // unavailable" (3) is how a gateway says "back off" (its connect rate limit, for one).
      // Refused credentials before the first connection still end start() below.
      reconnectOnConnackError: true,
    });
    this.client = client;
    this.link = jitteredReconnect(client, { initialMs: o.reconnectMs ?? 1_000, maxMs: o.reconnectMaxMs ?? 30_000 });
    client.on("message", (topic, payload) => this.onMessage(topic, payload));
    client.on("close", () => (this.linkUp = false));
    client.on("connect", (connack) => {
      // MQTT-3.2.2-2: sessionPresent tells us whether the broker kept our subscription.
      if (!connack.sessionPresent) client.subscribe(downFilter(o.cpId), { qos: 1 });
      this.connects += 1;
      this.linkUp = true;
      if (!this.connectedOnce) {
        this.connectedOnce = true;
        this.send("boot", { vendor: o.vendor ?? "ChargeBridge", model: o.model ?? "SimCharger", firmware: o.firmware ?? "sim-1.0" });
      }
      for (const m of this.buffer.drain()) this.publish(m);
      this.send("status", { status: this.firmware.status });
    });
    // A random phase: chargers switched on together must not heartbeat in lock-step forever.
    const every = o.heartbeatMs ?? 30_000;
    this.heartbeat = setTimeout(() => {
      this.send("heartbeat", {});
      this.heartbeat = setInterval(() => this.send("heartbeat", {}), every);
    }, Math.random() * every);
    const refuseAfter = Date.now() + (o.authGraceMs ?? 15_000);
    return new Promise((resolve, reject) => {
      client.once("connect", () => resolve());
      client.on("error", (error: Error & { code?: number }) => {
        // CONNACK 4/5 (3.1.1): bad username or password / not authorised. A charger provisioned a
        // moment ago may be refused until its hash has reached the gateway over the bus, so it
        // keeps retrying for a grace period before giving up for good.
        if (!this.connectedOnce && (error.code === 4 || error.code === 5) && Date.now() >= refuseAfter) {
          void this.stop();
          reject(new Error(`${o.cpId}: the broker refused the credentials (${error.message})`));
        }
      });
    });
  }

  async stop(): Promise<void> {
    clearTimeout(this.heartbeat); // Node clears a timeout or an interval alike
    this.firmware.shutdown();
    const client = this.client;
    if (!client) return;
    // A graceful end waits for in-flight PUBACKs, which never come on a dead link.
    const graceful = client.endAsync(!this.linkUp);
    const timer = setTimeout(() => client.end(true), 3_000);
    await graceful.catch(() => {});
    clearTimeout(timer);
  }

  /** Drops the connection without a DISCONNECT, as a network failure would; it comes back by itself. */
  dropConnection(): void {
    // mqtt.js reports the close a tick later; what the firmware produces meanwhile is ours to keep.
    this.linkUp = false;
    this.client?.stream.destroy();
  }

  /** A network outage of `ms`: the link goes down now and the first retry comes after `ms`. */
  goOffline(ms: number): boolean {
    const cut = this.link?.holdOffline(ms) ?? false;
    if (cut) this.linkUp = false;
    return cut;
  }

  fault(code: string, message: string): void {
    this.firmware.fault(code, message);
  }

  clearFault(): void {
    this.firmware.clearFault();
  }

  /** Starts a session without a remote start, as a local authorisation (RFID, free vend) would. */
  beginSession(reservationId: string): void {
    this.firmware.beginSession(reservationId);
  }

  stopCharging(reason: string): void {
    this.firmware.stopCharging(reason);
  }

  send<T extends UpstreamType>(type: T, fields: Outgoing<T>, onAcked?: () => void): string {
    const id = `${this.cpId}-${this.bootId}-${++this.seq}`;
    const ts = new Date(this.firmware.now()).toISOString();
    const message: BufferedMessage = { type, topic: upTopic(this.cpId, type), payload: JSON.stringify({ id, ts, ...fields }), onAcked };
    if (this.linkUp && this.client) {
      this.produced += 1;
      this.publish(message);
    } else if (this.buffer.push(message)) {
      this.produced += 1;
    }
    return id;
  }

  private publish(m: BufferedMessage): void {
    this.client!.publish(m.topic, m.payload, { qos: 1 }, (error) => {
      if (error) return; // the client was ended; nothing more will be sent
      this.acked += 1;
      m.onAcked?.();
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.direction !== "down") return;
    const decoded = decodeDownstream(parsed.type, payload);
    if (!decoded.ok) return;
    this.firmware.handle(decoded.value);
  }
}
