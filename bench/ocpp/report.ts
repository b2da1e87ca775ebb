/** bench/ocpp's tables: medians over rounds with the spread, OCPP beside its same-run MQTT baseline. */
import { fmt, markdownTable, median } from "../gateway/kit.ts";

export interface WindowResult {
  /** CALLRESULTs (OCPP) or PUBACKs (MQTT) per second: answers sent after the fsync. */
  answersPerSecond: number;
  /** Records Kafka acknowledged (the gateway's messages_out counter) per second. */
  kafkaPerSecond: number;
  p50: number;
  p99: number;
  appendsPerFsync: number;
  /** % of one core per process (gateway, kafka, loadgen) and the gateway's run-queue wait. */
  cpu: Record<string, number>;
}

export interface MemoryResult {
  transport: string;
  connections: number;
  connectSeconds: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
}

function stat(values: number[], digits = 0): string {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return "–";
  const m = fmt(median(v), digits);
  return v.length < 2 ? m : `${m} (${fmt(Math.min(...v), digits)}–${fmt(Math.max(...v), digits)})`;
}

export function throughputTable(rows: { label: string; windows: WindowResult[] }[]): string {
  const head = ["path", "answers/s (after fsync)", "Kafka-acked msg/s", "answer p50 ms", "answer p99 ms", "gateway CPU %", "its run-queue wait %", "Kafka CPU %", "load-gen CPU %", "appends per fsync"];
  return markdownTable(
    head,
    rows.map(({ label, windows: w }) => [
      label,
      stat(w.map((x) => x.answersPerSecond)),
      stat(w.map((x) => x.kafkaPerSecond)),
      stat(w.map((x) => x.p50), 1),
      stat(w.map((x) => x.p99), 1),
      stat(w.map((x) => x.cpu.gateway!)),
      stat(w.map((x) => x.cpu.gatewayWait!)),
      stat(w.map((x) => x.cpu.kafka!)),
      stat(w.map((x) => x.cpu.loadgen!)),
      stat(w.map((x) => x.appendsPerFsync), 1),
    ]),
  );
}

/** CPU-µs the gateway spends per answered message: the figure that compares the two paths' costs. */
export function cpuPerMessage(w: WindowResult[]): string {
  return stat(w.map((x) => (x.cpu.gateway! * 10_000) / x.answersPerSecond));
}

export function memoryTable(rows: MemoryResult[]): string {
  const mb = (b: number) => fmt(b / 1048576, 0);
  return markdownTable(
    ["transport", "connections", "connect s", "gateway RSS before MB", "after MB", "RSS KB per connection", "JS heap KB per connection"],
    rows.map((r) => [
      r.transport,
      String(r.connections),
      fmt(r.connectSeconds, 1),
      mb(r.rssBeforeBytes),
      mb(r.rssAfterBytes),
      fmt((r.rssAfterBytes - r.rssBeforeBytes) / r.connections / 1024, 1),
      fmt((r.heapAfterBytes - r.heapBeforeBytes) / r.connections / 1024, 1),
    ]),
  );
}
