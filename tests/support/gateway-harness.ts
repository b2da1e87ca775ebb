import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { createGateway, loadGatewayConfig, type Gateway } from "../../gateway/index.ts";
import type { ConsumedRecord } from "../../platform/event-bus.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
import { hashSecret } from "../../platform/password-hash.ts";
import { DEFAULT_TOPICS } from "../../protocol/index.ts";
import { waitFor } from "./wait.ts";

/** A real gateway process-in-test: aedes on a TCP port, the disk queue in a temp dir, an in-process bus. */
export interface GatewayHarness {
  gateway: Gateway;
  bus: InProcessBus;
  url: string;
  dataDir: string;
  events: ConsumedRecord[];
  deadLetters: ConsumedRecord[];
  addCharger(cpId: string, secret?: string): Promise<string>;
  /** `onMessage` is attached before CONNACK: a command can arrive in the same packet burst. */
  connect(cpId: string, password: string, extra?: IClientOptions, onMessage?: (topic: string, body: any) => void): Promise<MqttClient>;
  sendCommand(cpId: string, type: string, fields: Record<string, unknown>): Promise<string>;
  /** Graceful stop and a new gateway on the same data directory and bus, as after a restart. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function createGatewayHarness(env: Record<string, string> = {}): Promise<GatewayHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-gw-"));
  const bus = new InProcessBus();
  const config = loadGatewayConfig({ MQTT_PORT: "0", OCPP_PORT: "0", GATEWAY_HTTP_PORT: "0", MQTT_HOST: "127.0.0.1", DATA_DIR: dataDir, ...env });
  let gateway = await createGateway({ config, bus });
  await gateway.start();
  const events: ConsumedRecord[] = [];
  const deadLetters: ConsumedRecord[] = [];
  const subs = [
    await bus.subscribe(DEFAULT_TOPICS.events, { groupId: "test-events", fromBeginning: true }, async (r) => void events.push(r)),
    await bus.subscribe(DEFAULT_TOPICS.deadLetters, { groupId: "test-dlq", fromBeginning: true }, async (r) => void deadLetters.push(r)),
  ];
  const clients: MqttClient[] = [];
  let n = 0;
  let url = `mqtt://127.0.0.1:${gateway.mqttPort()}`;

  const h: GatewayHarness = {
    gateway,
    bus,
    url,
    dataDir,
    events,
    deadLetters,
    async addCharger(cpId, secret = `secret-${cpId}`) {
      // Few iterations keep tests fast; the format carries its own iteration count.
      const hash = await hashSecret(secret, 1_000);
      await bus.publish(DEFAULT_TOPICS.credentials, [{ key: cpId, value: JSON.stringify({ cpId, hash, updatedAt: new Date().toISOString() }) }]);
      await waitFor(() => gateway.credentials.has(cpId), { what: `credential for ${cpId}` });
      return secret;
    },
    async connect(cpId, password, extra = {}, onMessage) {
      const client = mqtt.connect(h.url, { clientId: cpId, username: cpId, password, clean: false, reconnectPeriod: 0, protocolVersion: 4, ...extra });
      if (onMessage) client.on("message", (topic, buf) => onMessage(topic, JSON.parse(buf.toString())));
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("error", reject);
        client.once("close", () => reject(new Error("Connection closed before CONNACK")));
      });
      return client;
    },
    async sendCommand(cpId, type, fields) {
      const id = `cmd-${++n}`;
      const payload = { id, ts: new Date().toISOString(), ...fields };
      await bus.publish(DEFAULT_TOPICS.commands, [{ key: cpId, value: JSON.stringify({ cpId, type, payload }) }]);
      return id;
    },
    async restart() {
      for (const c of clients.splice(0)) c.end(true);
      await gateway.stop();
      gateway = await createGateway({ config, bus });
      await gateway.start();
      h.gateway = gateway;
      h.url = url = `mqtt://127.0.0.1:${gateway.mqttPort()}`;
    },
    async close() {
      for (const c of clients) c.end(true);
      for (const s of subs) await s.close();
      await gateway.stop();
      await bus.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}
