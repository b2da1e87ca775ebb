import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { ConsumedRecord } from "../../platform/event-bus.ts";
import { createKafkaBus, type KafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { hashSecret } from "../../platform/password-hash.ts";
import type { ApiCall } from "./api-client.ts";
import { pickKafkaPort } from "./kafka-port.ts";
import { brokersOf, stopKafka, type KafkaInstance } from "./kafka.ts";
import { startProcess, type RunningProcess } from "./processes.ts";
import { runTopics } from "./run-topics.ts";
import { waitFor } from "./wait.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A Kafka broker of the test's own (so it can be killed), a real gateway process on fixed ports
 * (so it can be killed and restarted where chargers expect it), and an observer that reads the
 * events topic and counts every message by id.
 */
export class FaultRig {
  readonly kafka: KafkaInstance;
  readonly dataDir = mkdtempSync(join(tmpdir(), "cb-fault-gw-"));
  readonly run = Math.random().toString(36).slice(2, 8);
  readonly topics = runTopics(`fault-${this.run}`);
  gateway: RunningProcess | undefined;
  mqttPort = 0;
  httpPort = 0;
  observer: KafkaBus | undefined;
  readonly events: ConsumedRecord[] = [];
  private readonly clients: MqttClient[] = [];

  /** `kafkaPort` overrides the picked port (e.g. one nothing listens on). */
  constructor(kafkaPort?: number) {
    this.kafka = {
      port: kafkaPort ?? pickKafkaPort(),
      dataDir: mkdtempSync(join(tmpdir(), "cb-fault-kafka-")),
    };
  }

  get brokers(): string {
    return brokersOf(this.kafka).join(",");
  }

  /** Writes chargers' hashes where a gateway that ran before would have cached them. */
  async seedCredentials(chargers: Record<string, string>): Promise<void> {
    const file: Record<string, string> = {};
    for (const [cpId, secret] of Object.entries(chargers)) file[cpId] = await hashSecret(secret, 1_000);
    await mkdir(join(this.dataDir, "gateway"), { recursive: true });
    await writeFile(join(this.dataDir, "gateway", "credentials.json"), JSON.stringify(file));
  }

  async startGateway(env: Record<string, string> = {}): Promise<void> {
    if (!this.mqttPort) [this.mqttPort, this.httpPort] = [await freePort(), await freePort()];
    this.gateway = startProcess(
      "gateway/main.ts",
      {
        ...this.topics,
        ...env,
        KAFKA_BROKERS: this.brokers,
        MQTT_PORT: String(this.mqttPort),
        OCPP_PORT: "0",
        MQTT_HOST: "127.0.0.1",
        GATEWAY_HTTP_PORT: String(this.httpPort),
        DATA_DIR: this.dataDir,
        GATEWAY_ID: `fault-${this.run}`,
        LOG_LEVEL: "warn",
      },
      "gateway",
    );
    await waitFor(() => fetch(`http://127.0.0.1:${this.httpPort}/healthz`).then((r) => r.ok, () => false), {
      timeoutMs: 60_000,
      what: "gateway /healthz",
    });
  }

  async gatewayHealth(): Promise<{ queue: { depth: number; bytes: number; blockedAppends: number }; bus: { state: string }; chargers: number; pendingCommands: number; subscriptions: Record<string, string> }> {
    return (await fetch(`http://127.0.0.1:${this.httpPort}/healthz`)).json() as never;
  }

  /** Reads the events topic from the beginning; starts once Kafka is up. */
  async observe(): Promise<void> {
    this.observer = createKafkaBus({ brokers: brokersOf(this.kafka), clientId: `observer-${this.run}`, logger: quiet });
    await this.observer.subscribe(this.topics.KAFKA_TOPIC_EVENTS, { groupId: `observer-${this.run}`, fromBeginning: true }, async (r) => {
      this.events.push(r);
    });
  }

  /** Message ids per charger, in the order Kafka delivered them (up events only). */
  idsByCharger(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.events) {
      const e = JSON.parse(r.value) as { kind: string; cpId: string; payload?: { id: string } };
      if (e.kind !== "up" || !e.payload) continue;
      if (!out.has(e.cpId)) out.set(e.cpId, []);
      out.get(e.cpId)!.push(e.payload.id);
    }
    return out;
  }

  /**
   * Provisions a charger through Central's API and connects it once its hash has reached the
   * gateway over Kafka (a moment after the API answered), as a freshly installed charger would.
   */
  async provisionAndConnect(api: ApiCall, operatorToken: string, cpId: string): Promise<MqttClient> {
    const provisioned = await api("POST", "/v1/charge-points", operatorToken, { cpId });
    if (provisioned.status !== 201) throw new Error(`Provisioning ${cpId} answered ${provisioned.status}`);
    return await waitFor(
      async () => {
        try {
          return await this.connect(cpId, provisioned.body.mqtt.password as string);
        } catch {
          return null;
        }
      },
      { timeoutMs: 60_000, what: `${cpId} admitted by the gateway` },
    );
  }

  async connect(cpId: string, secret: string): Promise<MqttClient> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${this.mqttPort}`, {
      clientId: cpId,
      username: cpId,
      password: secret,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 200,
      connectTimeout: 5_000,
    });
    this.clients.push(client);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${cpId} did not connect within 10 s`)), 10_000);
        client.once("connect", () => (clearTimeout(timer), resolve()));
        // A refused CONNACK (bad credentials) surfaces as an error; fail fast instead of retrying.
        client.once("error", (error) => (clearTimeout(timer), reject(error)));
      });
    } catch (error) {
      client.end(true);
      throw error;
    }
    return client;
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.end(true);
    await this.observer?.close();
    await this.gateway?.kill();
    await stopKafka(this.kafka).catch(() => {});
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.kafka.dataDir!, { recursive: true, force: true });
  }
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Publishes `count` numbered heartbeats at QoS 1 and resolves with the ids the gateway PUBACKed. */
export async function publishNumbered(client: MqttClient, cpId: string, from: number, count: number): Promise<string[]> {
  const acked: string[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const id = `${cpId}-${String(from + i).padStart(6, "0")}`;
      await client.publishAsync(`chargebridge/v1/${cpId}/up/heartbeat`, JSON.stringify({ id, ts: new Date().toISOString() }), { qos: 1 });
      acked.push(id);
    }),
  );
  return acked;
}

/** Every acknowledged id arrived, and each charger's ids arrived in ascending order (duplicates allowed). */
export function assertDeliveredInOrder(byCharger: Map<string, string[]>, acked: Map<string, string[]>): string | null {
  for (const [cpId, ids] of acked) {
    const got = byCharger.get(cpId) ?? [];
    const seen = new Set(got);
    const missing = ids.filter((id) => !seen.has(id));
    if (missing.length) return `${cpId}: ${missing.length} acknowledged messages missing, e.g. ${missing.slice(0, 3).join(", ")}`;
    // first occurrences must be ascending: a replay after a crash may repeat, never reorder what is new
    const firsts: string[] = [];
    const once = new Set<string>();
    for (const id of got) if (!once.has(id)) (once.add(id), firsts.push(id));
    const sorted = [...firsts].sort();
    if (firsts.join() !== sorted.join()) return `${cpId}: order broken`;
  }
  return null;
}
