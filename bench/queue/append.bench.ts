/**
 * Append throughput of the file queue: group commit versus one fsync per append, in one run on
 * the same disk; and the same for the gateway's command store, against the one fsync per entry it
 * did before. Plain script, runs on both runtimes:
 *
 *   npx tsx bench/queue/append.bench.ts            (Node)
 *   npx deno run -A bench/queue/append.bench.ts    (Deno)
 *
 * Env: BENCH_DIR (default: the OS temp dir; put it on the disk the gateway will use),
 * BENCH_APPENDS (per scenario, default 20000), BENCH_BUDGET_MS (per scenario, default 2500),
 * BENCH_PAYLOAD (bytes, default 512), BENCH_ROUNDS (default 3). A scenario stops at whichever limit
 * comes first. Scenarios run interleaved, round after round, and the table shows medians: fsync
 * latency on a shared or virtual disk drifts by several times within a minute, and interleaving
 * keeps that drift from favouring whichever scenario happened to run in a quiet moment.
 */
import type { FileHandle } from "node:fs/promises";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommandStore } from "../../gateway/commands/command-store.ts";
import { openFileQueue } from "../../gateway/queue/file-queue.ts";
import { encodeRecord } from "../../gateway/queue/record-codec.ts";

const root = process.env.BENCH_DIR ?? tmpdir();
const maxAppends = Number(process.env.BENCH_APPENDS ?? 20_000);
const budgetMs = Number(process.env.BENCH_BUDGET_MS ?? 2_500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const payloadBytes = Number(process.env.BENCH_PAYLOAD ?? 512);
const payload = new Uint8Array(payloadBytes).map((_, i) => 97 + (i % 26));

interface Result {
  scenario: string;
  producers: number;
  appends: number;
  seconds: number;
  fsyncs: number;
  latencies: number[];
}

interface Appender {
  /** Resolves when the entry is durable. */
  append(): Promise<void>;
  fsyncs(): number;
  close(): Promise<void>;
}

/** `producers` concurrent loops, each appending and waiting for durability, like MQTT sessions. */
async function drive(scenario: string, producers: number, appender: Appender): Promise<Result> {
  const latencies: number[] = [];
  let appends = 0;
  const started = performance.now();
  const fsyncsBefore = appender.fsyncs();
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (appends < maxAppends && performance.now() - started < budgetMs) {
        appends += 1;
        const t = performance.now();
        await appender.append();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const result = { scenario, producers, appends, seconds, fsyncs: appender.fsyncs() - fsyncsBefore, latencies };
  await appender.close();
  return result;
}

async function fileQueue(dir: string, groupCommit: boolean): Promise<Appender> {
  let logSyncs = 0;
  const queue = await openFileQueue({
    dir,
    maxBytes: 1 << 30,
    maxBatchEntries: groupCommit ? undefined : 1,
    onFsync: (_ms, _entries, kind) => void (kind === "log" && (logSyncs += 1)),
  });
  return { append: () => queue.append(payload).durable, fsyncs: () => logSyncs, close: () => queue.close() };
}

/** One append at a time, each synced (by `writeOne`) before the next starts: the baselines' discipline. */
function oneAtATime(fh: FileHandle, writeOne: () => Promise<void>): Appender {
  let syncs = 0;
  let tail: Promise<unknown> = Promise.resolve();
  return {
    append: () => {
      const run = tail.then(async () => {
        await writeOne();
        syncs += 1;
      });
      tail = run;
      return run;
    },
    fsyncs: () => syncs,
    close: () => fh.close(),
  };
}

/** The naive baseline outside the queue: each append is its own write + fdatasync, one at a time. */
async function naive(dir: string): Promise<Appender> {
  const fh: FileHandle = await open(join(dir, "naive.log"), "w+");
  let position = 0;
  let seq = 0;
  return oneAtATime(fh, async () => {
    const record = encodeRecord(++seq, Date.now(), payload);
    await fh.write(record, 0, record.length, position);
    position += record.length;
    await fh.datasync();
  });
}

const command = (n: number) => ({ cpId: `cp-${n % 100}`, type: "stop", payload: { id: `cmd-${n}`, ts: new Date().toISOString(), reservationId: "r" }, expiresAt: 0 });

/** The gateway's command store: each `add` resolves once its line is synced (group commit). */
async function commandStore(dir: string): Promise<Appender> {
  let syncs = 0;
  let n = 0;
  const store = await CommandStore.open(join(dir, "commands.jsonl"), { onSync: () => void (syncs += 1) });
  return { append: () => store.add(command(++n)), fsyncs: () => syncs, close: () => store.close() };
}

/** The command store's writes as they were before group commit: one append and fsync per entry, in turn. */
async function commandStoreSerial(dir: string): Promise<Appender> {
  const fh: FileHandle = await open(join(dir, "commands.jsonl"), "a");
  let n = 0;
  return oneAtATime(fh, async () => {
    await fh.appendFile(`${JSON.stringify({ op: "add", cmd: command(++n) })}\n`);
    await fh.sync();
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const deno = (process.versions as Record<string, string | undefined>).deno;
  console.log(`runtime: ${deno ? `deno ${deno}` : `node ${process.version}`}; dir: ${root}; payload ${payloadBytes} B; ` +
    `per scenario at most ${maxAppends} appends or ${budgetMs} ms, ${rounds} interleaved rounds`);
  const scenarios = [
    ["group commit (FileQueue)", (dir: string) => fileQueue(dir, true)],
    ["fsync per append (FileQueue, maxBatchEntries=1)", (dir: string) => fileQueue(dir, false)],
    ["naive write+fdatasync per append", naive],
    ["command store add (group commit)", commandStore],
    ["command store, fsync per entry (before)", commandStoreSerial],
  ] as const;
  const results: Result[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const producers of [1, 16, 128]) {
      // Rotate the order each round: the scenario that runs first after a directory of the
      // previous one is deleted pays for that writeback, and no scenario should always be it.
      const order = scenarios.map((_, i) => scenarios[(i + round) % scenarios.length]!);
      for (const [scenario, make] of order) {
        const dir = await mkdtemp(join(root, "cb-queue-bench-"));
        try {
          results.push(await drive(scenario, producers, await make(dir)));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  }

  const groups = new Map<string, Result[]>();
  for (const r of results) {
    const key = `${r.producers}|${r.scenario}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const rows = [...groups.values()].sort((a, b) => a[0]!.producers - b[0]!.producers).map((runs) => {
    const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const appends = runs.reduce((n, r) => n + r.appends, 0);
    const fsyncs = runs.reduce((n, r) => n + r.fsyncs, 0);
    return {
      scenario: runs[0]!.scenario,
      producers: runs[0]!.producers,
      "appends/s (median)": Math.round(median(runs.map((r) => r.appends / r.seconds))),
      "appends/s (min-max)": runs.map((r) => Math.round(r.appends / r.seconds)).sort((a, b) => a - b).filter((_, i, a) => i === 0 || i === a.length - 1).join("-"),
      "log fsyncs": fsyncs,
      "appends/fsync": +(appends / Math.max(1, fsyncs)).toFixed(1),
      "p50 ms": +percentile(latencies, 50).toFixed(2),
      "p99 ms": +percentile(latencies, 99).toFixed(2),
    };
  });
  console.table(rows);

  // Recovery: how long opening a queue with a backlog takes (scan + CRC of every record).
  const dir = await mkdtemp(join(root, "cb-queue-bench-"));
  try {
    const backlog = 100_000;
    const queue = await openFileQueue({ dir, maxBytes: 1 << 30 });
    for (let i = 0; i < backlog; i += 5_000) {
      await Promise.all(Array.from({ length: 5_000 }, () => queue.append(payload).durable));
    }
    await queue.close();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t = performance.now();
    const reopened = await openFileQueue({ dir, maxBytes: 1 << 30, memoryBytes: 0 });
    const ms = performance.now() - t;
    gc?.();
    const perEntry = (process.memoryUsage().heapUsed - heapBefore) / backlog;
    console.log(
      `recovery: opened ${reopened.stats().depth} entries (${(reopened.stats().bytes / 2 ** 20).toFixed(1)} MiB) in ${ms.toFixed(0)} ms` +
        (gc ? `; index heap ≈ ${perEntry.toFixed(0)} B/entry with memoryBytes=0` : "; run with --expose-gc for index heap per entry"),
    );
    await reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
