import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RPCClient } from "ocpp-rpc";
import { createGateway, loadGatewayConfig, type Gateway } from "../../gateway/index.ts";
import type { DurableQueue } from "../../gateway/queue/durable-queue.ts";
import { openFileQueue } from "../../gateway/queue/file-queue.ts";
import type { ConsumedRecord } from "../../platform/event-bus.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
import { hashSecret } from "../../platform/password-hash.ts";
import { DEFAULT_TOPICS } from "../../protocol/index.ts";
import { waitFor } from "./wait.ts";

/**
 * A real gateway in-process (aedes + the OCPP listener on real sockets, the disk queue in a temp
 * dir, an in-process bus) and real OCPP-J charge boxes: ocpp-rpc's own client in strict mode, so
 * every call the gateway sends is checked against the OCA 1.6 schemas. `synced` lists the queue
 * records whose fsync had completed, in order: a test can check what was durable when an answer
 * came. `syncDelayMs` stretches every fsync (a slow disk) to make "answered before durable" visible.
 */
export interface OcppHarness {
  gateway: Gateway;
  bus: InProcessBus;
  dataDir: string;
  events: ConsumedRecord[];
  deadLetters: ConsumedRecord[];
  synced: string[];
  /** Up events (parsed) for a cpId and type. */
  up(cpId: string, type?: string): any[];
  addCharger(cpId: string, secret?: string): Promise<string>;
  revoke(cpId: string): Promise<void>;
  endpoint(): string;
  connect(cpId: string, password: string, options?: { callTimeoutMs?: number; identity?: string }): Promise<RPCClient>;
  /** The HTTP status of a raw upgrade request (101 when accepted). */
  upgradeStatus(path: string, authorization?: string, protocol?: string): Promise<number>;
  sendCommand(cpId: string, type: string, fields: Record<string, unknown>): Promise<string>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A counter's value from the gateway's /metrics (0 when absent). */
export async function metric(h: OcppHarness, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${h.gateway.httpPort()}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith("#"));
  return line ? Number(line.split(" ").pop()) : 0;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

function watched(queue: DurableQueue, synced: string[], delayMs: number): DurableQueue {
  return {
    ...queue,
    append(data) {
      const { seq, durable } = queue.append(data);
      const text = new TextDecoder().decode(data);
      const done = durable.then(async () => {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        synced.push(text);
      });
      return { seq, durable: done };
    },
    peek: (max) => queue.peek(max),
    ack: (upto) => queue.ack(upto),
    waitForData: (signal) => queue.waitForData(signal),
    stats: () => queue.stats(),
    close: () => queue.close(),
  };
}

export async function createOcppHarness(env: Record<string, string> = {}, options: { syncDelayMs?: number } = {}): Promise<OcppHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-ocpp-"));
  const bus = new InProcessBus();
  const config = loadGatewayConfig({ MQTT_PORT: "0", OCPP_PORT: "0", GATEWAY_HTTP_PORT: "0", MQTT_HOST: "127.0.0.1", DATA_DIR: dataDir, ...env });
  const synced: string[] = [];
  const open = async () => {
    const queue = watched(await openFileQueue({ dir: join(dataDir, "gateway", "queue"), maxBytes: config.QUEUE_MAX_BYTES }), synced, options.syncDelayMs ?? 0);
    const gw = await createGateway({ config, bus, queue });
    await gw.start();
    return gw;
  };
  let gateway = await open();
  const events: ConsumedRecord[] = [];
  const deadLetters: ConsumedRecord[] = [];
  const subs = [
    await bus.subscribe(DEFAULT_TOPICS.events, { groupId: "test-events", fromBeginning: true }, async (r) => void events.push(r)),
    await bus.subscribe(DEFAULT_TOPICS.deadLetters, { groupId: "test-dlq", fromBeginning: true }, async (r) => void deadLetters.push(r)),
  ];
  const clients: RPCClient[] = [];
  let n = 0;
  const publishCredential = (cpId: string, hash: string | null) =>
    bus.publish(DEFAULT_TOPICS.credentials, [{ key: cpId, value: JSON.stringify({ cpId, hash, updatedAt: new Date().toISOString() }) }]);

  const h: OcppHarness = {
    gateway,
    bus,
    dataDir,
    events,
    deadLetters,
    synced,
    up(cpId, type) {
      return events.map((r) => JSON.parse(r.value)).filter((e) => e.kind === "up" && e.cpId === cpId && (!type || e.type === type));
    },
    async addCharger(cpId, secret = `secret-${cpId}`) {
      await publishCredential(cpId, await hashSecret(secret, 1_000));
      await waitFor(() => h.gateway.credentials.has(cpId), { what: `credential for ${cpId}` });
      return secret;
    },
    async revoke(cpId) {
      await publishCredential(cpId, null);
      await waitFor(() => !h.gateway.credentials.has(cpId), { what: `revocation of ${cpId}` });
    },
    endpoint: () => `ws://127.0.0.1:${h.gateway.ocppPort()}/ocpp`,
    async connect(cpId, password, o = {}) {
      const client = new RPCClient({
        endpoint: h.endpoint(),
        identity: o.identity ?? cpId,
        password,
        protocols: ["ocpp1.6"],
        strictMode: true,
        reconnect: false,
        callTimeoutMs: o.callTimeoutMs ?? 10_000,
      } as ConstructorParameters<typeof RPCClient>[0]); // its typings make every option required
      clients.push(client);
      await client.connect();
      return client;
    },
    upgradeStatus(path, authorization, protocol = "ocpp1.6") {
      return new Promise((resolve, reject) => {
        const headers: Record<string, string> = {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64"),
          "Sec-WebSocket-Protocol": protocol,
        };
        if (authorization) headers.Authorization = authorization;
        const req = request({ host: "127.0.0.1", port: h.gateway.ocppPort(), path, headers });
        req.on("upgrade", (res, socket) => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
    },
    async sendCommand(cpId, type, fields) {
      const id = `cmd-${++n}`;
      const payload = { id, ts: new Date().toISOString(), ...fields };
      await bus.publish(DEFAULT_TOPICS.commands, [{ key: cpId, value: JSON.stringify({ cpId, type, payload }) }]);
      return id;
    },
    async restart() {
      for (const c of clients.splice(0)) await c.close({ force: true }).catch(() => {});
      await h.gateway.stop();
      gateway = await open();
      h.gateway = gateway;
    },
    async close() {
      for (const c of clients) await c.close({ force: true }).catch(() => {});
      for (const s of subs) await s.close();
      await h.gateway.stop();
      await bus.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}
