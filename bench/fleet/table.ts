import type { LatencySummary } from "./latency.ts";

export interface TargetResult {
  target: string;
  /** Where meter values were timed on arrival. */
  consumer: string;
  chargers: number;
  connected: number;
  connectSeconds: number;
  /** Messages acknowledged by the broker per second during the window. */
  msgsPerSecond: number;
  /** Produced but not acknowledged when the window closed. */
  unacked: number;
  /** Broker process CPU, % of one core. */
  cpuPercent: number;
  /** The simulator's own CPU, for context: it shares the same two cores. */
  simCpuPercent: number;
  rssBaselineBytes: number;
  rssPeakBytes: number;
  rssPerConnectionBytes: number;
  latency: LatencySummary;
}

const MB = 1024 * 1024;

/** A fixed-width table; the same rows go into docs/benchmarks.md. */
export function formatTable(rows: TargetResult[]): string {
  const head = ["target", "connected", "connect s", "msg/s", "broker CPU %", "sim CPU %", "RSS idle MB", "RSS peak MB", "KB/conn", "p50 ms", "p90 ms", "p99 ms", "max ms", "meter values", "timed at"];
  const body = rows.map((r) => [
    r.target,
    `${r.connected}/${r.chargers}`,
    r.connectSeconds.toFixed(1),
    r.msgsPerSecond.toFixed(0),
    r.cpuPercent.toFixed(1),
    r.simCpuPercent.toFixed(1),
    (r.rssBaselineBytes / MB).toFixed(1),
    (r.rssPeakBytes / MB).toFixed(1),
    (r.rssPerConnectionBytes / 1024).toFixed(1),
    String(r.latency.p50),
    String(r.latency.p90),
    String(r.latency.p99),
    String(r.latency.max),
    String(r.latency.count),
    r.consumer,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}
