import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { RPCClient } from "ocpp-rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsumedRecord } from "../../platform/event-bus.ts";
import { createKafkaBus, type KafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { hashSecret } from "../../platform/password-hash.ts";
import { freePort, publishNumbered } from "../support/fault-rig.ts";
import { ensureKafka } from "../support/kafka.ts";
import { startProcess, type RunningProcess } from "../support/processes.ts";
import { runTopics } from "../support/run-topics.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The gateway as edge hardware runs it: `deno run -A gateway/main.ts` (what `deno task gateway`
 * runs), as a real process on real Kafka, with a charger over MQTT/TCP. Its test suite runs under
 * Deno too (`npm run test:deno`); this proves the assembled process, start to SIGTERM.
 */
const CP = "deno-cp-1";
const SECRET = "secret-of-deno-cp-1";

describe("the gateway process on Deno", { timeout: 120_000 }, () => {
  const run = Math.random().toString(36).slice(2, 8);
  const topics = runTopics(`deno-${run}`);
  let dataDir: string;
  let gateway: RunningProcess;
  let observer: KafkaBus;
  let client: MqttClient | undefined;
  let mqttPort = 0;
  let httpUrl = "";
  const events: ConsumedRecord[] = [];

  beforeAll(async () => {
    const brokers = await ensureKafka();
    dataDir = await mkdtemp(join(tmpdir(), "cb-deno-gw-"));
    // As if Central had published this charger's hash before: the gateway's cached credentials.
    await mkdir(join(dataDir, "gateway"), { recursive: true });
    await writeFile(join(dataDir, "gateway", "credentials.json"), JSON.stringify({ [CP]: await hashSecret(SECRET, 1_000) }));
    mqttPort = await freePort();
    const httpPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    gateway = startProcess(
      "gateway/main.ts",
      { ...topics, KAFKA_BROKERS: brokers.join(","), MQTT_PORT: String(mqttPort), OCPP_PORT: "0", MQTT_HOST: "127.0.0.1", GATEWAY_HTTP_PORT: String(httpPort), DATA_DIR: dataDir, GATEWAY_ID: `deno-${run}` },
      "gateway (deno)",
      "deno",
    );
    await gateway.waitForLog((l) => l.msg === "Gateway is running", 90_000, "running on Deno");
    observer = createKafkaBus({ brokers, clientId: `deno-observer-${run}` });
    await observer.subscribe(topics.KAFKA_TOPIC_EVENTS, { groupId: `deno-observer-${run}`, fromBeginning: true }, async (r) => void events.push(r));
  }, 180_000);

  afterAll(async () => {
    client?.end(true);
    await gateway?.kill();
    await observer?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("runs on Deno, ready once Kafka answers", async () => {
    await waitFor(() => fetch(`${httpUrl}/readyz`).then((r) => r.status === 200, () => false), { timeoutMs: 60_000, what: "/readyz" });
    expect(gateway.lines.find((l) => l.msg === "Gateway started")).toMatchObject({ bus: "kafka" });
    // The process says which runtime it is, and it is Deno.
    expect(gateway.lines.find((l) => l.msg === "Gateway is running")?.runtime).toMatch(/^deno \d+\./);
  });

  it("forwards a charger's QoS 1 messages to Kafka, every one, in order", async () => {
    client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { clientId: CP, username: CP, password: SECRET, clean: false, protocolVersion: 4, reconnectPeriod: 200 });
    await new Promise<void>((resolve, reject) => (client!.once("connect", () => resolve()), client!.once("error", reject)));
    const acked = await publishNumbered(client, CP, 0, 50);
    const ids = () =>
      events.map((r) => JSON.parse(r.value) as { kind: string; payload?: { id: string } }).filter((e) => e.kind === "up").map((e) => e.payload!.id);
    await waitFor(() => acked.every((id) => ids().includes(id)), { timeoutMs: 30_000, what: "all 50 messages on Kafka" });
    const firsts = [...new Set(ids())];
    expect(firsts).toEqual([...firsts].sort());
  });

  it("delivers a command from Kafka to the charger over MQTT", async () => {
    const got: { id: string }[] = [];
    client!.on("message", (_t, buf) => got.push(JSON.parse(buf.toString())));
    await client!.subscribeAsync(`chargebridge/v1/${CP}/down/#`, { qos: 1 });
    await waitFor(async () => ((await (await fetch(`${httpUrl}/healthz`)).json()) as { subscriptions: { commands: string } }).subscriptions.commands === "joined", {
      timeoutMs: 60_000,
      what: "the commands subscription joined",
    });
    const payload = { id: `cmd-deno-${run}`, ts: new Date().toISOString(), reservationId: "res-deno" };
    await observer.publish(topics.KAFKA_TOPIC_COMMANDS, [{ key: CP, value: JSON.stringify({ cpId: CP, type: "stop", payload }) }]);
    await waitFor(() => got.some((m) => m.id === payload.id), { timeoutMs: 30_000, what: "the command at the charger" });
  });

  it("serves an OCPP 1.6J box on Deno: answers after the fsync, the event reaches Kafka", async () => {
    const ocppUrl = String(gateway.lines.find((l) => l.msg === "Gateway is running")?.ocppUrl);
    const box = new RPCClient({
      endpoint: ocppUrl.replace("/{cpId}", ""),
      identity: CP,
      password: SECRET,
      protocols: ["ocpp1.6"],
      strictMode: true,
      reconnect: false,
    } as ConstructorParameters<typeof RPCClient>[0]);
    await box.connect();
    expect(await box.call("BootNotification", { chargePointVendor: "DenoBox", chargePointModel: "D1" })).toMatchObject({ status: "Accepted" });
    const timestamp = new Date().toISOString();
    await box.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Available", timestamp });
    await waitFor(
      () => events.map((r) => JSON.parse(r.value)).some((e) => e.kind === "up" && e.type === "status" && e.payload.ts === timestamp),
      { timeoutMs: 30_000, what: "the OCPP status on Kafka" },
    );
    await box.close();
  });

  it("stops on SIGTERM with exit 0", async () => {
    client?.end(true);
    expect(await gateway.stop(30_000)).toBe(0);
  });
});
