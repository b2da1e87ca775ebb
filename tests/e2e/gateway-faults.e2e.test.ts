import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killKafka, restartKafka } from "../support/kafka.ts";
import { assertDeliveredInOrder, FaultRig, publishNumbered } from "../support/fault-rig.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The gateway never loses a charger's acknowledged message: real Kafka, a real gateway process,
 * real MQTT, and faults made by SIGKILL. Every message is counted by its id.
 */
const CHARGERS = { "fault-cp-1": "secret-one", "fault-cp-2": "secret-two", "fault-cp-3": "secret-three" };

describe("gateway fault tests", { timeout: 240_000 }, () => {
  const rig = new FaultRig(0);
  const acked = new Map<string, string[]>(Object.keys(CHARGERS).map((id) => [id, []]));
  const clients = new Map<string, import("mqtt").MqttClient>();
  let next = 0;

  async function burst(count: number): Promise<void> {
    const from = next;
    next += count;
    await Promise.all(
      [...clients].map(async ([cpId, client]) => {
        acked.get(cpId)!.push(...(await publishNumbered(client, cpId, from, count)));
      }),
    );
  }

  async function expectAllDelivered(what: string): Promise<void> {
    await waitFor(() => assertDeliveredInOrder(rig.idsByCharger(), acked) === null, {
      timeoutMs: 90_000,
      intervalMs: 200,
      what,
    }).catch((error: Error) => {
      throw new Error(`${error.message}: ${assertDeliveredInOrder(rig.idsByCharger(), acked)}`);
    });
  }

  beforeAll(async () => {
    await rig.seedCredentials(CHARGERS);
  }, 60_000);
  afterAll(async () => rig.close());

  it("1. Kafka is down when the gateway starts: chargers publish, Kafka comes up, every message arrives", async () => {
    await rig.startGateway();
    expect((await rig.gatewayHealth()).bus.state).not.toBe("connected");
    for (const [cpId, secret] of Object.entries(CHARGERS)) clients.set(cpId, await rig.connect(cpId, secret));
    await burst(40);
    const held = await rig.gatewayHealth();
    expect(held.queue.depth).toBeGreaterThanOrEqual(120);
    await restartKafka(rig.kafka);
    await rig.observe();
    await expectAllDelivered("every message after Kafka came up");
    await waitFor(async () => (await rig.gatewayHealth()).queue.depth === 0, { timeoutMs: 30_000, what: "queue drained" });
  });

  it("2. Kafka is SIGKILLed mid-stream and restarted: every message arrives, in order per charger", async () => {
    const streaming = (async () => {
      for (let i = 0; i < 10; i++) await burst(20);
    })();
    await waitFor(() => next >= 60, { what: "stream under way" });
    await killKafka(rig.kafka);
    await streaming;
    await restartKafka(rig.kafka);
    await expectAllDelivered("every message after the Kafka kill");
  });

  it("3. the gateway is SIGKILLed holding a backlog, then restarted: every message arrives", async () => {
    await killKafka(rig.kafka); // build a backlog that only the disk holds
    await burst(50);
    expect((await rig.gatewayHealth()).queue.depth).toBeGreaterThanOrEqual(150);
    await rig.gateway!.kill();
    await rig.startGateway();
    // chargers reconnect by themselves (reconnectPeriod); Kafka comes back after the gateway
    await restartKafka(rig.kafka);
    await expectAllDelivered("backlog after the gateway kill");
  });
});
