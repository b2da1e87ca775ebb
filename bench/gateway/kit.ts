/**
 * Small shared pieces of the gateway bench: ports, a private Kafka broker, CPU sampling from
 * /proc, percentiles and a markdown table. Kept here rather than in tests/support because they
 * exist only to measure; the Kafka control itself is tests/support/kafka.ts (scripts/kafka.sh).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brokersOf, ensureKafka, restartKafka, stopKafka, type KafkaInstance } from "../../tests/support/kafka.ts";

export function freePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => resolve(got));
    });
  });
}

/** A port whose successor is free too: scripts/kafka.sh puts the KRaft controller on port + 1. */
export async function freeKafkaPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    if (port < 65_000 && (await freePort(port + 1).then(() => true, () => false))) return port;
  }
  throw new Error("no two adjacent free ports on 127.0.0.1");
}

/**
 * A Kafka broker of the bench's own (scripts/kafka.sh with a temp data dir): the drain stage stops
 * and restarts it, which must never happen to the shared broker other test runs use.
 */
export interface PrivateKafka {
  brokers: string[];
  /** The JVM's pid, for CPU sampling. */
  pid(): number | undefined;
  /** Graceful stop; the data dir stays so `start` brings the same topics back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  const instance: KafkaInstance = { port: await freeKafkaPort(), dataDir: await mkdtemp(join(tmpdir(), "cb-bench-kafka-")) };
  await ensureKafka(instance);
  return {
    brokers: brokersOf(instance),
    pid() {
      try {
        return Number(readFileSync(join(instance.dataDir!, "kafka.pid"), "utf8").trim()) || undefined;
      } catch {
        return undefined;
      }
    },
    stop: () => stopKafka(instance),
    start: () => restartKafka(instance),
    async destroy() {
      await stopKafka(instance).catch(() => {});
      await rm(instance.dataDir!, { recursive: true, force: true });
    },
  };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (the command) may contain spaces; the fields after its closing paren are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * Seconds the process's main thread (Node's event loop) has spent runnable but waiting for a core,
 * from /proc/<pid>/schedstat. On a shared two-core machine this is the share of the window a
 * process wanted the CPU and did not get it: the noise other agents' test runs add.
 */
export function runQueueWaitSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e9;
  } catch {
    return 0;
  }
}

/** CPU use of several processes over a window, as % of one core (200 % = both cores of this machine). */
export function cpuMeter(pids: Record<string, number | undefined>) {
  const started = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const waitBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, runQueueWaitSeconds(pid)]));
  return (): Record<string, number> => {
    const seconds = (performance.now() - started) / 1000;
    return Object.fromEntries(
      Object.entries(pids).flatMap(([k, pid]) => [
        [k, ((cpuSeconds(pid) - before[k]!) / seconds) * 100],
        // "<name>Wait": % of the window its event loop sat in the run queue.
        [`${k}Wait`, ((runQueueWaitSeconds(pid) - waitBefore[k]!) / seconds) * 100],
      ]),
    );
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

export function fmt(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);
}

/** A markdown table, padded so it also reads well in a terminal; the same rows go into docs. */
export function markdownTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
