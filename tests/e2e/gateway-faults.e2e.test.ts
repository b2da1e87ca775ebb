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
  const rig = new FaultRig();
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

  it("4. a charger that lost its connection gets the commands queued meanwhile on reconnect", async () => {
    const cpId = "fault-cp-1";
    const client = clients.get(cpId)!;
    await client.subscribeAsync(`chargebridge/v1/${cpId}/down/#`, { qos: 1 });
    const got: { id: string }[] = [];
    client.on("message", (_t, buf) => got.push(JSON.parse(buf.toString())));
    client.options.reconnectPeriod = 0;
    await client.endAsync(true);
    try {
      // The gateway restarted in test 3 may still be rejoining its consumer group (the killed
      // member stays listed until its session times out); commands published meanwhile must
      // still reach it, from the group's committed offsets.
      const ids = ["cmd-a", "cmd-b", "cmd-c"];
      await rig.observer!.publish(
        rig.topics.KAFKA_TOPIC_COMMANDS,
        ids.map((id) => ({ key: cpId, value: JSON.stringify({ cpId, type: "stop", payload: { id, ts: new Date().toISOString(), reservationId: `res-${id}` } }) })),
      );
      await waitFor(async () => (await rig.gatewayHealth()).pendingCommands === 3, {
        timeoutMs: 90_000,
        what: "commands held for the offline charger",
      }).catch(async (error: Error) => {
        throw new Error(`${error.message}; gateway health: ${JSON.stringify(await rig.gatewayHealth())}`);
      });
      expect((await rig.gatewayHealth()).subscriptions.commands).toBe("joined");
      client.options.reconnectPeriod = 200;
      client.reconnect();
      await waitFor(() => ids.every((id) => got.some((m) => m.id === id)), { timeoutMs: 30_000, what: "queued commands after reconnect" });
      expect(got.map((m) => m.id).filter((id) => ids.includes(id)).slice(0, 3)).toEqual(ids);
    } finally {
      // Whatever happened above, the next test needs this charger connected again.
      if (!client.connected) {
        client.options.reconnectPeriod = 200;
        client.reconnect();
      }
    }
  });

  it("5. a full queue backpressures chargers, drops nothing, and flows again once drained", async () => {
    await rig.gateway!.stop();
    await killKafka(rig.kafka);
    await rig.startGateway({ QUEUE_MAX_BYTES: "16384" });
    await waitFor(async () => [...clients.values()].every((c) => c.connected), { timeoutMs: 30_000, what: "chargers back" });
    const before = new Map([...acked].map(([k, v]) => [k, v.length]));
    const all = burst(100); // 300 messages of ~250 bytes: far more than 16 KiB
    await waitFor(async () => (await rig.gatewayHealth()).queue.blockedAppends > 0, { timeoutMs: 30_000, what: "backpressure" });
    const blocked = await rig.gatewayHealth();
    expect(blocked.queue.bytes).toBeLessThanOrEqual(16384);
    const ackedWhileFull = [...acked].reduce((n, [k, v]) => n + v.length - before.get(k)!, 0);
    expect(ackedWhileFull).toBeLessThan(300);
    await restartKafka(rig.kafka);
    await all; // every withheld PUBACK arrives once the queue drains
    await expectAllDelivered("every message after the queue drained");
    expect((await rig.gatewayHealth()).queue.blockedAppends).toBe(0);
  });

  it("6. Kafka is SIGKILLed and restarted under a joined command consumer: a later command reaches the charger", async () => {
    const cpId = "fault-cp-2";
    const client = clients.get(cpId)!;
    await client.subscribeAsync(`chargebridge/v1/${cpId}/down/#`, { qos: 1 });
    const got = new Map<string, number>();
    client.on("message", (_t, buf) => void got.set((JSON.parse(buf.toString()) as { id: string }).id, Date.now()));
    await waitFor(async () => (await rig.gatewayHealth()).subscriptions.commands === "joined", { timeoutMs: 60_000, what: "command consumer joined" });
    await killKafka(rig.kafka);
    await waitFor(async () => (await rig.gatewayHealth()).bus.state === "disconnected", { timeoutMs: 30_000, what: "gateway to notice the kill" });
    await restartKafka(rig.kafka);
    const readyAt = Date.now();
    const command = { cpId, type: "stop", payload: { id: "cmd-after-restart", ts: new Date().toISOString(), reservationId: "res-after-restart" } };
    await rig.observer!.publish(rig.topics.KAFKA_TOPIC_COMMANDS, [{ key: cpId, value: JSON.stringify(command) }]);
    const publishedAt = Date.now();
    await waitFor(() => got.has("cmd-after-restart"), { timeoutMs: 60_000, what: "the command published after the restart" });
    // A figure, not an assertion (issue 10): the time the gateway's rebuilt member took to rejoin.
    console.log(`[gateway-faults] Kafka ready → command published ${publishedAt - readyAt} ms, → at the charger ${got.get("cmd-after-restart")! - readyAt} ms`);
  });
});
