import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsumedRecord } from "../../platform/event-bus.ts";
import { counter } from "../support/hostile-kit.ts";
import { killKafka, restartKafka } from "../support/kafka.ts";
import { assertDeliveredInOrder, FaultRig, publishNumbered } from "../support/fault-rig.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Issue 10: one authenticated charger's garbage stopped forwarding for the whole site. 300
 * malformed 8 KB messages full of control characters became dead letters of ~24 KiB of JSON each;
 * one key's dead letters went over Kafka's message.max.bytes, the forwarder retried that batch
 * forever and no later message (of any charger) ever reached Kafka. Real Kafka, a real gateway
 * process, real MQTT. The burst arrives while Kafka is away (as after a site's uplink outage), so
 * the forwarder meets it as one backlog, as in the issue; with Kafka up throughout, the forwarder
 * happens to take the burst in small batches as it arrives and hides the bug.
 */
const CHARGERS = { "poison-cp-bad": "secret-bad-one", "poison-cp-good": "secret-good-one" };
const BURST = 300;
const DEAD_LETTER_MAX_BYTES = 2048;

/** 8 KB that is not JSON: control characters (6 bytes each once JSON-escaped), quotes, invalid UTF-8. */
function garbage(i: number): Buffer {
  const bytes = Buffer.alloc(8 * 1024);
  for (let j = 0; j < bytes.length; j++) bytes[j] = j % 7 === 0 ? 0x22 : j % 11 === 0 ? 0xff : (i + j) % 32;
  return bytes;
}

describe("poison input from one charger", { timeout: 240_000 }, () => {
  const rig = new FaultRig();
  const dlq: ConsumedRecord[] = [];
  let bad: MqttClient;
  let good: MqttClient;
  const metricsUrl = () => `http://127.0.0.1:${rig.httpPort}/metrics`;

  beforeAll(async () => {
    await rig.seedCredentials(CHARGERS);
    await rig.startGateway(); // Kafka is not started yet
    bad = await rig.connect("poison-cp-bad", CHARGERS["poison-cp-bad"]);
    good = await rig.connect("poison-cp-good", CHARGERS["poison-cp-good"]);
  }, 180_000);
  afterAll(async () => rig.close());

  it("a burst of large malformed messages does not stop the other charger's messages, and the queue drains", async () => {
    await Promise.all(
      Array.from({ length: BURST }, (_, i) => bad.publishAsync("chargebridge/v1/poison-cp-bad/up/heartbeat", garbage(i), { qos: 1 })),
    );
    const acked = new Map([["poison-cp-good", await publishNumbered(good, "poison-cp-good", 0, 20)]]);
    console.log(`backlog while Kafka is away: ${JSON.stringify((await rig.gatewayHealth()).queue)}`);
    await restartKafka(rig.kafka);
    await rig.observe();
    await rig.observer!.subscribe(rig.topics.KAFKA_TOPIC_DLQ, { groupId: `dlq-${rig.run}`, fromBeginning: true }, async (r) => {
      dlq.push(r);
    });
    await waitFor(() => assertDeliveredInOrder(rig.idsByCharger(), acked) === null, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: "every acknowledged heartbeat of the good charger on Kafka",
    }).catch((error: Error) => {
      throw new Error(`${error.message}: ${assertDeliveredInOrder(rig.idsByCharger(), acked)}`);
    });
    await waitFor(async () => (await rig.gatewayHealth()).queue.depth === 0, { timeoutMs: 30_000, what: "queue drained" });

    // Nothing acknowledged vanished without a trace: each malformed message is a dead letter on
    // Kafka or counted as rate-limited; every dead letter is bounded in encoded bytes.
    const limited = await counter(metricsUrl(), "chargebridge_gateway_dead_letters_rate_limited_total");
    await waitFor(() => dlq.length + limited >= BURST, { timeoutMs: 30_000, what: "dead letters on Kafka" });
    const sizes = dlq.map((r) => Buffer.byteLength(r.value));
    console.log(`dead letters on Kafka: ${dlq.length}, rate-limited: ${limited}, largest dead letter: ${Math.max(...sizes)} bytes`);
    expect(dlq.length + limited).toBe(BURST);
    expect(limited).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    for (const r of dlq) expect(JSON.parse(r.value)).toMatchObject({ source: "gateway", cpId: "poison-cp-bad" });
  });

  it("the poisoning charger's own later valid messages still reach Kafka", async () => {
    const acked = new Map([["poison-cp-bad", await publishNumbered(bad, "poison-cp-bad", 0, 10)]]);
    await waitFor(() => assertDeliveredInOrder(rig.idsByCharger(), acked) === null, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: "the poisoning charger's valid heartbeats on Kafka",
    });
    await waitFor(async () => (await rig.gatewayHealth()).queue.depth === 0, { timeoutMs: 30_000, what: "queue drained" });
  });

  it("with the dead-letter rate limit off, the byte bound on batches alone keeps the backlog flowing", async () => {
    await killKafka(rig.kafka);
    await rig.gateway!.kill();
    await rig.startGateway({ DEAD_LETTERS_PER_MINUTE: "0" });
    await waitFor(() => bad.connected && good.connected, { timeoutMs: 30_000, what: "chargers reconnected" });
    const before = dlq.length;
    await Promise.all(
      Array.from({ length: BURST }, (_, i) => bad.publishAsync("chargebridge/v1/poison-cp-bad/up/heartbeat", garbage(i), { qos: 1 })),
    );
    const acked = new Map([["poison-cp-good", await publishNumbered(good, "poison-cp-good", 1_000, 20)]]);
    const backlog = (await rig.gatewayHealth()).queue;
    console.log(`backlog with the limit off: ${backlog.depth} entries, ${backlog.bytes} bytes (${BURST} dead letters of at most ${DEAD_LETTER_MAX_BYTES} B: over one 512 KiB batch)`);
    await restartKafka(rig.kafka);
    await waitFor(() => assertDeliveredInOrder(rig.idsByCharger(), acked) === null, { timeoutMs: 60_000, intervalMs: 200, what: "good heartbeats on Kafka" });
    await waitFor(async () => (await rig.gatewayHealth()).queue.depth === 0, { timeoutMs: 30_000, what: "queue drained" });
    await waitFor(() => dlq.length - before >= BURST, { timeoutMs: 30_000, what: `all ${BURST} dead letters on Kafka` });
    expect(await counter(metricsUrl(), "chargebridge_gateway_bus_refused_total")).toBe(0);
  });
});
