import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaBus, type KafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { brokersOf, killKafka, restartKafka, stopKafka, type KafkaInstance } from "../support/kafka.ts";
import { waitFor } from "../support/wait.ts";
import { pickKafkaPort } from "../support/kafka-port.ts";

/**
 * Issue 10: after a Kafka restart the rebuilt consumer joined as a new member, and the coordinator
 * (which reloaded the group from __consumer_offsets) held the rebalance until the dead member's
 * session timed out. Here the session timeout is 45 s, so a record that arrives well inside it
 * proves the dead member was removed, not waited out. A broker of its own, as it is killed.
 */
const instance: KafkaInstance = {
  port: pickKafkaPort(),
  dataDir: mkdtempSync(join(tmpdir(), "chargebridge-kafka-rejoin-")),
};
const SESSION_MS = 45_000;
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe("a consumer group member across a Kafka SIGKILL and restart", () => {
  const buses: KafkaBus[] = [];
  let admin: ReturnType<Kafka["admin"]>;

  beforeAll(async () => {
    await restartKafka(instance);
    admin = new Kafka({ brokers: brokersOf(instance), clientId: "rejoin-admin", logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }, 600_000);

  afterAll(async () => {
    await admin?.disconnect().catch(() => {});
    await Promise.all(buses.map((b) => b.close()));
    await stopKafka(instance);
    rmSync(instance.dataDir!, { recursive: true, force: true });
  }, 120_000);

  const membersOf = async (groupId: string) => {
    const { groups } = await admin.describeGroups([groupId]);
    return { state: groups[0]!.state, ids: groups[0]!.members.map((m) => m.memberId) };
  };

  it("rejoins without waiting for the dead member's session, and says how long a record took", { timeout: 300_000 }, async () => {
    const topic = `rejoin-${randomUUID().slice(0, 8)}`;
    const groupId = `${topic}-g`;
    const handled = new Map<string, number>();
    // The consumer's bus publishes nothing, like the gateway's command consumer: no producer of
    // its own tells it that Kafka is back, so the figure includes its rebuild backoff.
    const consumer = createKafkaBus({ brokers: brokersOf(instance), clientId: "rejoin-consumer", sessionTimeoutMs: SESSION_MS, logger: quiet });
    const publisher = createKafkaBus({ brokers: brokersOf(instance), clientId: "rejoin-publisher", logger: quiet });
    buses.push(consumer, publisher);
    await consumer.subscribe(topic, { groupId }, async (r) => void handled.set(r.value, Date.now()));
    await publisher.publish(topic, [{ key: "cp-1", value: "before" }]);
    await waitFor(() => handled.has("before"), { timeoutMs: 30_000, what: "the record before the kill" });
    const before = await membersOf(groupId);
    expect(before.ids).toHaveLength(1);

    const figures: string[] = [];
    for (const round of [1, 2]) {
      await killKafka(instance);
      await waitFor(() => consumer.health().state === "disconnected", { timeoutMs: 30_000, what: "the consumer to notice the kill" });
      await restartKafka(instance);
      const readyAt = Date.now();
      const value = `after-${round}`;
      await publisher.publish(topic, [{ key: "cp-1", value }]);
      const publishedAt = Date.now();
      // Well inside the 45 s session: without removing the dead member, the join is still waiting.
      await waitFor(() => handled.has(value), { timeoutMs: SESSION_MS - 15_000, what: `${value}, handled before the dead member's session expired` });
      const group = await waitFor(async () => {
        const g = await membersOf(groupId);
        return g.state === "Stable" && g.ids.length === 1 ? g : undefined;
      }, { timeoutMs: 10_000, what: "a stable group of one member" });
      // A new member, and the one it replaced is gone (not waiting out its session).
      expect(before.ids).not.toContain(group.ids[0]);
      before.ids.splice(0, 1, group.ids[0]!);
      figures.push(`round ${round}: producer back ${publishedAt - readyAt} ms, record handled ${handled.get(value)! - readyAt} ms after Kafka was ready`);
    }
    console.log(`[kafka-rejoin] session timeout ${SESSION_MS} ms; ${figures.join("; ")}`);
  });
});
