import { RPCClient } from "ocpp-rpc";
import { Backoff } from "../../platform/backoff.ts";
import type { ChargerStats } from "../charger.ts";
import type { EvOption } from "../firmware.ts";
import { commandHandlers, type OcppCommandLogEntry } from "./ocpp-commands.ts";
import { OcppConnector, type ConnectorHost } from "./ocpp-connector.ts";
import { OcppOutbox, type OutboxCall } from "./ocpp-outbox.ts";

export interface OcppChargerOptions {
  /** The OCPP-J base URL, e.g. ws://127.0.0.1:8092/ocpp; the charger connects to `${url}/${cpId}`. */
  url: string;
  /** The box's identity; connector 1 is the charge point `cpId`, connector N ≥ 2 is `${cpId}-N`. */
  cpId: string;
  password: string;
  connectors?: number;
  vendor?: string;
  model?: string;
  firmware?: string;
  meterMs?: number;
  powerW?: number;
  clockSkewMs?: number;
  ev?: EvOption;
  stopWhenFull?: boolean;
  /** Calls kept while disconnected (default 1000), evicted by offline-buffer.ts's priorities. */
  bufferSize?: number;
  /** First reconnect delay; later ones back off exponentially with jitter up to `reconnectMaxMs`. */
  reconnectMs?: number;
  reconnectMaxMs?: number;
  /** How long refused credentials (HTTP 401) are retried before start() fails. Default 15 s. */
  authGraceMs?: number;
  /** A call with no answer after this long is sent again (default 30 s). */
  callTimeoutMs?: number;
}

/** The charge box `cpId` is charge point `cpId`; its connector N ≥ 2 is charge point `cpId-N` (docs/ocpp.md). */
export function connectorCpId(box: string, connectorId: number): string {
  return connectorId === 1 ? box : `${box}-${connectorId}`;
}

/**
 * A simulated OCPP 1.6J charge box on ocpp-rpc's RPCClient in strict mode, so every call the
 * gateway sends us, and every answer it gives, is checked against the OCA JSON schemas. One
 * WebSocket per box; one firmware model per connector (ocpp-connector.ts). Reconnects with
 * jittered exponential backoff, our own rather than ocpp-rpc's, so an outage can be held for a
 * chosen time (goOffline) and a restarted gateway is not hit by a whole site in lock-step.
 */
export class OcppCharger implements ConnectorHost {
  readonly cpId: string;
  readonly connectors: OcppConnector[];
  readonly commandLog: OcppCommandLogEntry[] = [];
  /** BootNotification.conf, once accepted. */
  boot: { interval: number; currentTime: string } | null = null;
  heartbeats = 0;
  private readonly client: RPCClient;
  private readonly outbox: OcppOutbox;
  private readonly backoff: Backoff;
  private open = false;
  private stopped = false;
  private holdMs: number | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private produced = 0;
  private connects = 0;
  private startPromise: Promise<void> | null = null;

  constructor(private readonly options: OcppChargerOptions) {
    this.cpId = options.cpId;
    const o = options;
    this.client = new RPCClient({
      endpoint: o.url.replace(/\/+$/, ""),
      identity: o.cpId,
      password: o.password,
      protocols: ["ocpp1.6"],
      strictMode: true,
      reconnect: false,
      callTimeoutMs: o.callTimeoutMs ?? 30_000,
      // ocpp-rpc's typings mark every option required; the rest keep the library's defaults.
    } as unknown as ConstructorParameters<typeof RPCClient>[0]);
    this.backoff = new Backoff({ initialMs: o.reconnectMs ?? 1_000, maxMs: o.reconnectMaxMs ?? 30_000, jitter: 0.5 });
    this.outbox = new OcppOutbox((action, params) => this.client.call(action, params) as Promise<Record<string, unknown>>, o.bufferSize ?? 1_000, 1_000);
    const firmware = { meterMs: o.meterMs, powerW: o.powerW, clockSkewMs: o.clockSkewMs, ev: o.ev, stopWhenFull: o.stopWhenFull };
    this.connectors = Array.from({ length: o.connectors ?? 1 }, (_, i) => new OcppConnector(connectorCpId(o.cpId, i + 1), i + 1, this, firmware));
    for (const [action, handler] of Object.entries(commandHandlers(this.connectors, this.commandLog))) {
      this.client.handle(action, async ({ params, messageId }) => handler(params ?? {}, messageId ?? crypto.randomUUID()));
    }
    this.client.on("close", () => this.onClosed());
  }

  get connected(): boolean {
    return this.open;
  }

  stats(): ChargerStats {
    const s = this.outbox.stats();
    return { produced: this.produced, acked: s.acked, connects: this.connects, buffer: { size: s.size, peak: s.peak, dropped: s.dropped, skipped: s.skipped } };
  }

  outboxStats() {
    return this.outbox.stats();
  }

  enqueue(call: OutboxCall): boolean {
    const kept = this.outbox.push(call);
    if (kept) this.produced += 1;
    return kept;
  }

  /** Resolves once the box is connected and its BootNotification accepted; rejects on refused credentials. */
  start(): Promise<void> {
    this.startPromise ??= new Promise<void>((resolve, reject) => {
      const refuseAfter = Date.now() + (this.options.authGraceMs ?? 15_000);
      this.firstBoot = { resolve, reject, refuseAfter };
      this.connect();
    });
    return this.startPromise;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    for (const c of this.connectors) c.firmware.shutdown();
    this.outbox.setOnline(false);
    await this.client.close({ force: true }).catch(() => {});
  }

  /** A network outage of `ms`: the socket is cut now (no close frame) and the next attempt comes after `ms`. */
  goOffline(ms: number): boolean {
    if (!this.open) return false;
    this.holdMs = Math.max(1, Math.round(ms));
    this.markDown();
    void this.client.close({ force: true });
    return true;
  }

  /** Drops the link as a network failure would; the backoff brings it back. */
  dropConnection(): void {
    if (!this.open) return;
    this.markDown();
    void this.client.close({ force: true });
  }

  private firstBoot: { resolve: () => void; reject: (e: Error) => void; refuseAfter: number } | null = null;

  private connect(): void {
    if (this.stopped) return;
    this.client.connect().then(
      () => void this.onOpen(),
      (error: Error & { code?: number }) => {
        const boot = this.firstBoot;
        // HTTP 401: a charger provisioned a moment ago may be refused until its hash reaches the gateway.
        if (boot && error.code === 401 && Date.now() >= boot.refuseAfter) {
          this.firstBoot = null;
          void this.stop();
          boot.reject(new Error(`${this.cpId}: the gateway refused the credentials (HTTP 401)`));
        }
        // The close event that follows a failed connect schedules the retry.
      },
    );
  }

  private async onOpen(): Promise<void> {
    this.connects += 1;
    this.backoff.reset();
    this.open = true;
    try {
      if (!this.boot) await this.bootNotification();
    } catch {
      return; // the link went down mid-boot; the next connection boots again
    }
    if (!this.open) return;
    // §4.9: after (re)connecting, report every connector, then let the queued calls go in order.
    for (const c of this.connectors) c.reportStatus();
    this.outbox.setOnline(true);
    const boot = this.firstBoot;
    this.firstBoot = null;
    boot?.resolve();
  }

  /** §4.2: nothing else is sent until Central accepts the boot; Pending/Rejected retry after `interval`. */
  private async bootNotification(): Promise<void> {
    const o = this.options;
    for (;;) {
      const conf = (await this.client.call("BootNotification", {
        chargePointVendor: o.vendor ?? "ChargeBridge",
        chargePointModel: o.model ?? "SimCharger-OCPP",
        firmwareVersion: o.firmware ?? "sim-1.0",
      })) as { status: string; interval: number; currentTime: string };
      if (conf.status === "Accepted") {
        this.boot = { interval: conf.interval, currentTime: conf.currentTime };
        this.armHeartbeat(conf.interval);
        return;
      }
      await new Promise((r) => setTimeout(r, Math.max(1, conf.interval) * 1000));
      if (!this.open) throw new Error("disconnected");
    }
  }

  /** The interval Central returned (§4.6); 0 would mean "no heartbeat", we keep one a minute then. */
  private armHeartbeat(intervalSeconds: number): void {
    clearInterval(this.heartbeatTimer);
    const every = (intervalSeconds > 0 ? intervalSeconds : 60) * 1000;
    this.heartbeatTimer = setInterval(() => {
      if (!this.open) return;
      // Not through the outbox: a heartbeat means "alive now" and is worthless later.
      this.client.call("Heartbeat", {}).then(() => (this.heartbeats += 1), () => {});
    }, every);
  }

  private markDown(): void {
    this.open = false;
    this.outbox.setOnline(false);
  }

  private onClosed(): void {
    this.markDown();
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    const wait = this.holdMs ?? this.backoff.next();
    this.holdMs = null;
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }
}
