/**
 * Issue 10: how long after a Kafka restart a consumer group member handles a new record, with the
 * fast rejoin (StaleMemberReaper plus wake-on-link-up, the default) and without it (the behaviour
 * before: the rebuilt member waits for the dead one's session timeout), measured on the same
 * SIGKILL/restart so both see the same broker. The producer's recovery is the third baseline.
 *
 *   node --import tsx bench/kafka-rejoin/run.ts              # 3 rounds
 *   node --import tsx bench/kafka-rejoin/run.ts --rounds 5
 *
 * A broker of its own (scripts/kafka.sh, temp data dir), since it is killed; each consumer has a
 * bus of its own that publishes nothing, like the gateway's command consumer or Central's event
 * consumer between commands, so nothing but its own retries tells it that Kafka is back.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createKafkaBus, type KafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { brokersOf, killKafka, restartKafka, stopKafka, type KafkaInstance } from "../../tests/support/kafka.ts";
import { waitFor } from "../../tests/support/wait.ts";
import { fmt, freeKafkaPort, markdownTable, median } from "../gateway/kit.ts";

const { values: args } = parseArgs({ options: { rounds: { type: "string", default: "3" }, session: { type: "string", default: "10000" }, verbose: { type: "boolean", default: false } } });
const rounds = Number(args.rounds);
const sessionTimeoutMs = Number(args.session);
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const say = (level: string) => (o: object, msg?: string) => console.log(`${new Date().toISOString()} ${level} ${msg} ${JSON.stringify(o)}`);
const verbose = { debug: () => {}, info: say("info"), warn: say("warn"), error: say("error") };
const MODES = { fast: true, old: false } as const;

const instance: KafkaInstance = { port: await freeKafkaPort(), dataDir: await mkdtemp(join(tmpdir(), "cb-bench-rejoin-")) };
const buses: KafkaBus[] = [];
try {
  await restartKafka(instance);
  const brokers = brokersOf(instance);
  const topic = `bench-rejoin-${Date.now()}`;
  const publisher = createKafkaBus({ brokers, clientId: "bench-rejoin-pub", logger: quiet });
  buses.push(publisher);
  const handled = { fast: new Map<string, number>(), old: new Map<string, number>() };
  const consumers = {} as Record<keyof typeof MODES, KafkaBus>;
  for (const [mode, fastRejoin] of Object.entries(MODES) as [keyof typeof MODES, boolean][]) {
    const bus = createKafkaBus({ brokers, clientId: `bench-rejoin-${mode}`, sessionTimeoutMs, fastRejoin, logger: args.verbose && fastRejoin ? verbose : quiet });
    buses.push(bus);
    consumers[mode] = bus;
    await bus.subscribe(topic, { groupId: `${topic}-${mode}` }, async (r) => void handled[mode].set(r.value, Date.now()));
  }
  await publisher.publish(topic, [{ key: "k", value: "warm" }]);
  await waitFor(() => handled.fast.has("warm") && handled.old.has("warm"), { timeoutMs: 30_000, what: "warm-up record" });

  const rows: { producer: number; fast: number; old: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    await killKafka(instance);
    await waitFor(() => Object.values(consumers).every((b) => b.health().state === "disconnected"), { timeoutMs: 30_000, what: "consumers to notice the kill" });
    await restartKafka(instance);
    const readyAt = Date.now();
    if (args.verbose) console.log(`${new Date(readyAt).toISOString()} Kafka ready`);
    const value = `round-${round}`;
    await publisher.publish(topic, [{ key: "k", value }]);
    const producer = Date.now() - readyAt;
    await waitFor(() => handled.fast.has(value) && handled.old.has(value), { timeoutMs: sessionTimeoutMs + 60_000, what: `${value} in both groups` });
    const row = { producer, fast: handled.fast.get(value)! - readyAt, old: handled.old.get(value)! - readyAt };
    rows.push(row);
    console.log(`round ${round}: producer ${row.producer} ms, fast rejoin ${row.fast} ms, old rejoin ${row.old} ms (after Kafka was ready)`);
  }
  const s = (pick: (r: (typeof rows)[number]) => number) => {
    const v = rows.map(pick);
    return `${fmt(median(v) / 1000, 2)} (${fmt(Math.min(...v) / 1000, 2)}–${fmt(Math.max(...v) / 1000, 2)})`;
  };
  console.log(`\nKafka SIGKILL + restart → record handled, session timeout ${sessionTimeoutMs} ms, ${rounds} rounds, median (min–max) s:\n`);
  console.log(
    markdownTable(
      ["path", "Kafka ready → done"],
      [
        ["producer: publish acked (baseline)", s((r) => r.producer)],
        ["consumer, fast rejoin (default)", s((r) => r.fast)],
        ["consumer, old rejoin (`fastRejoin: false`)", s((r) => r.old)],
      ],
    ),
  );
} finally {
  await Promise.all(buses.map((b) => b.close().catch(() => {})));
  await stopKafka(instance).catch(() => {});
  await rm(instance.dataDir!, { recursive: true, force: true });
}
