import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { waitFor } from "./wait.ts";

/** Tools for the hostile-input suite: real MQTT clients, a well-behaved charger, metrics. */

export const upTopic = (cpId: string, type: string) => `chargebridge/v1/${cpId}/up/${type}`;
export const downFilter = (cpId: string) => `chargebridge/v1/${cpId}/down/#`;
export const message = (id: string, fields: Record<string, unknown> = {}) => JSON.stringify({ id, ts: new Date().toISOString(), ...fields });

export type Attempt = { client: MqttClient; code?: undefined } | { client?: undefined; code: number | string };

/** Connects and reports the CONNACK refusal code (or the error) instead of throwing. */
export function tryConnect(url: string, clientId: string, password: string, extra: IClientOptions = {}): Promise<Attempt> {
  const client = mqtt.connect(url, { clientId, username: clientId, password, clean: false, reconnectPeriod: 0, protocolVersion: 4, ...extra });
  return new Promise<Attempt>((resolve) => {
    client.once("connect", () => resolve({ client }));
    client.once("error", (e: Error & { code?: number | string }) => {
      client.end(true);
      resolve({ code: e.code ?? e.message });
    });
    client.once("close", () => resolve({ code: "closed" }));
  });
}

export async function connectOrThrow(url: string, clientId: string, password: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const attempt = await tryConnect(url, clientId, password, extra);
  if (!attempt.client) throw new Error(`${clientId} could not connect: ${attempt.code}`);
  return attempt.client;
}

/** The SUBACK return code for one subscription (mqtt.js turns 0x80 into an error carrying it). */
export function grantedQos(client: MqttClient, topic: string): Promise<number | undefined> {
  return client.subscribeAsync(topic, { qos: 1 }).then(
    (granted) => granted[0]?.qos,
    (e: { packet?: { granted?: number[] } }) => e.packet?.granted?.[0],
  );
}

export function closed(client: MqttClient): Promise<void> {
  return new Promise<void>((resolve) => (client.connected ? client.once("close", () => resolve()) : resolve()));
}

/** Sums the samples of a Prometheus counter whose line contains `labels`. */
export async function counter(metricsUrl: string, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split("\n")
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

/**
 * A well-behaved charger publishing a numbered heartbeat stream (QoS 1, one in flight, paced
 * by a timer) while hostile traffic runs next to it. `sent` and `acked` let a test check that
 * Central applied every one of them and nothing else: heartbeat is reserved for this charger.
 */
export class GoodCharger {
  sent = 0;
  acked = 0;
  closes = 0;
  readonly commands: { topic: string; body: { id: string } }[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private inFlight = false;

  private constructor(
    readonly cpId: string,
    readonly client: MqttClient,
  ) {
    client.on("close", () => this.closes++);
    client.on("message", (topic, buf) => this.commands.push({ topic, body: JSON.parse(buf.toString()) }));
  }

  static async start(url: string, cpId: string, password: string, everyMs = 40): Promise<GoodCharger> {
    const client = await connectOrThrow(url, cpId, password);
    const good = new GoodCharger(cpId, client);
    await client.subscribeAsync(downFilter(cpId), { qos: 1 });
    await client.publishAsync(upTopic(cpId, "status"), message(`${cpId}-status-1`, { status: "available" }), { qos: 1 });
    good.timer = setInterval(() => good.tick(), everyMs);
    return good;
  }

  private tick(): void {
    if (this.inFlight) return;
    this.inFlight = true;
    const n = ++this.sent;
    this.client.publishAsync(upTopic(this.cpId, "heartbeat"), message(`hb-${n}`), { qos: 1 }).then(
      () => {
        this.acked++;
        this.inFlight = false;
      },
      () => {
        this.inFlight = false;
      },
    );
  }

  /** Stops the stream; resolves once the last heartbeat is acknowledged. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await waitFor(() => !this.inFlight, { what: "the last heartbeat acknowledged" });
  }
}
