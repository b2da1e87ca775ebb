/**
 * Baseline for bench/gateway/run.ts: the bridge the original system was, in a few lines. For each
 * MQTT message it sends one record to Kafka (acks=all), waits for that send to be acknowledged,
 * and only then lets aedes PUBACK; sends go one at a time, in arrival order. No disk queue, no
 * batching, no validation, no authentication: everything it leaves out only makes it cheaper, so
 * the gap to the real gateway is a lower bound.
 *
 * Runs as its own process, like the gateway under test:
 *   NAIVE_MQTT_PORT=0 NAIVE_TOPIC=t KAFKA_BROKERS=127.0.0.1:9092 node --import tsx bench/gateway/naive-bridge.ts
 * It prints one JSON line `{"ready":true,"mqttPort":N}` when it serves, and exits on SIGTERM.
 */
import { createServer } from "node:net";
import { Aedes } from "aedes";
import { Kafka, logLevel } from "kafkajs";

const brokers = (process.env.KAFKA_BROKERS ?? "").split(",").filter(Boolean);
const topic = process.env.NAIVE_TOPIC ?? "naive-bridge.events";
if (brokers.length === 0) throw new Error("KAFKA_BROKERS is required");

const kafka = new Kafka({ clientId: "naive-bridge", brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
// Same partition count as the topics the gateway's bus creates, so both bridges write alike.
await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
await admin.disconnect();
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();

let tail: Promise<unknown> = Promise.resolve();
const broker = await Aedes.createBroker({
  id: "naive-bridge",
  // aedes PUBACKs a QoS 1 publish only after this callback: the ack waits for Kafka's.
  authorizePublish(client, packet, done) {
    if (!client) return done(null);
    const type = packet.topic.split("/")[4] ?? "unknown";
    const value = JSON.stringify({
      kind: "up",
      cpId: client.id,
      type,
      payload: JSON.parse(packet.payload.toString()),
      gatewayId: "naive-bridge",
      receivedAt: new Date().toISOString(),
    });
    const send = tail.then(() => producer.send({ topic, acks: -1, messages: [{ key: client.id, value }] }));
    tail = send.catch(() => {});
    send.then(
      () => done(null),
      (error: Error) => done(error),
    );
  },
});

const server = createServer((socket) => broker.handle(socket));
await new Promise<void>((resolve) => server.listen(Number(process.env.NAIVE_MQTT_PORT ?? 0), "127.0.0.1", resolve));
console.log(JSON.stringify({ ready: true, mqttPort: (server.address() as { port: number }).port }));

process.once("SIGTERM", () => {
  server.close();
  broker.close(() => void producer.disconnect().finally(() => process.exit(0)));
});
