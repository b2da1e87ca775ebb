import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BusState, ConsumedRecord } from "../../platform/event-bus.ts";
import { createKafkaBus, type KafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { brokersOf, killKafka, restartKafka, stopKafka, type KafkaInstance } from "../support/kafka.ts";
import { waitFor } from "../support/wait.ts";
import { pickKafkaPort } from "../support/kafka-port.ts";

/**
 * The original bug of this product: after Kafka went away, the kafkajs producer never came
 * back. This runs a broker of its own (another port and data dir), so killing it does not
 * disturb the tests that share the default broker.
 */
const instance: KafkaInstance = {
  port: pickKafkaPort(),
  dataDir: mkdtempSync(join(tmpdir(), "chargebridge-kafka-fault-")),
};

describe("KafkaBus across Kafka outages", () => {
  let bus: KafkaBus | undefined;
  const warnings: string[] = [];

  afterAll(async () => {
    await bus?.close();
    await stopKafka(instance);
    rmSync(instance.dataDir!, { recursive: true, force: true });
  });

  it("publishes and consumes through a late start, a SIGKILL and a restart", { timeout: 300_000 }, async () => {
    const topic = `reconnect-${randomUUID().slice(0, 8)}`;
    const states = new Set<BusState>();
    bus = createKafkaBus({
      brokers: brokersOf(instance),
      clientId: "reconnect-test",
      reconnectBackoff: { initialMs: 100, maxMs: 1_000 },
      // The group waits for the killed member's session to expire before the new one is in.
      sessionTimeoutMs: 6_000,
      logger: {
        debug: () => {},
        info: (_o, msg) => void warnings.push(`info: ${msg}`),
        warn: (_o, msg) => void warnings.push(`warn: ${msg}`),
        error: (_o, msg) => void warnings.push(`error: ${msg}`),
      },
    });
    const sample = () => {
      const h = bus!.health();
      states.add(h.state);
      return h;
    };

    // Phase 1: Kafka is down. The bus exists, publish and subscribe wait instead of failing.
    await waitFor(() => sample().state === "disconnected", { timeoutMs: 20_000, what: "bus to notice Kafka is down" });
    expect(bus.health().lastError).toBeTruthy();
    const delivered: ConsumedRecord[] = [];
    const subscribed = bus.subscribe(topic, { groupId: `${topic}-g`, fromBeginning: true }, async (r) => {
      delivered.push(r);
    });
    const early = Array.from({ length: 20 }, (_, i) => `early-${i}`);
    const acked: string[] = [];
    const earlyPublisher = (async () => {
      for (const [i, value] of early.entries()) {
        await bus!.publish(topic, [{ key: `cp-${i % 3}`, value }]);
        acked.push(value);
      }
    })();
    // Let the pending publish hit the dead broker a few times before Kafka appears.
    await waitFor(() => sample().state === "disconnected" && acked.length === 0, { what: "publish to be pending" });

    await restartKafka(instance);
    await subscribed;
    await earlyPublisher;
    await waitFor(() => values(delivered).has(early.at(-1)!) && early.every((v) => values(delivered).has(v)), {
      timeoutMs: 60_000,
      what: "records published while Kafka was down",
    });
    await waitFor(() => sample().state === "connected", { timeoutMs: 30_000, what: "bus connected after late start" });
    const reconnectsBefore = bus.health().reconnects;

    // Phase 2: a steady stream, SIGKILL mid-stream, restart on the same data dir.
    let stop = false;
    let n = 0;
    const streamPublisher = (async () => {
      while (!stop) {
        const value = `live-${n}`;
        await bus!.publish(topic, [{ key: `cp-${n % 3}`, value }]);
        acked.push(value);
        n += 1;
      }
    })();
    await waitFor(() => acked.length >= early.length + 50, { timeoutMs: 30_000, what: "stream to flow" });
    await killKafka(instance);
    await waitFor(() => sample().state === "disconnected", { timeoutMs: 30_000, what: "bus to notice the SIGKILL" });
    const ackedAtKill = acked.length;

    await restartKafka(instance);
    await waitFor(() => acked.length >= ackedAtKill + 50, { timeoutMs: 60_000, what: "stream to resume after restart" });
    stop = true;
    await streamPublisher;

    await waitFor(() => acked.every((v) => values(delivered).has(v)), {
      timeoutMs: 90_000,
      what: `all ${acked.length} acked records to be delivered`,
    });
    await waitFor(() => sample().state === "connected" && bus!.health().reconnects > reconnectsBefore, {
      timeoutMs: 60_000,
      what: "bus to report the reconnect",
    });

    expect(states).toContain("disconnected");
    expect(states).toContain("connected");
    expect(bus.health().reconnects).toBeGreaterThanOrEqual(1);
    // At-least-once may repeat records, but never reorders a key: first sightings keep publish order.
    for (const key of ["cp-0", "cp-1", "cp-2"]) {
      const firstSeen = [...new Set(delivered.filter((r) => r.key === key).map((r) => r.value))];
      const expected = acked.filter((v) => firstSeen.includes(v));
      expect(firstSeen).toEqual(expected);
    }
    expect(warnings.some((w) => w.includes("reconnected"))).toBe(true);
  });
});

function values(records: ConsumedRecord[]): Set<string> {
  return new Set(records.map((r) => r.value));
}

describe("KafkaBus while no broker is reachable", () => {
  it("waits, honours the caller's AbortSignal, and rejects pending publishes on close", async () => {
    // Nothing listens on this instance's port until the test above starts it; use one that stays free.
    const bus = createKafkaBus({ brokers: ["127.0.0.1:9"], clientId: "unreachable", reconnectBackoff: { initialMs: 50, maxMs: 200 } });
    await waitFor(() => bus.health().state === "disconnected", { timeoutMs: 20_000, what: "disconnected" });
    await expect(bus.publish("nowhere", [{ key: "k", value: "v" }], { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    const pending = bus.publish("nowhere", [{ key: "k", value: "v" }]);
    const pendingSub = bus.subscribe("nowhere", { groupId: "nowhere-g" }, async () => {});
    await bus.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(pendingSub).rejects.toThrow(/closed/);
    expect(bus.health().state).toBe("closed");
  });
});
