/** The gateway bench's tables: medians over rounds, with the per-round spread beside the headline figures. */
import { fmt, markdownTable, median } from "./kit.ts";
import type { OpenLoopResult } from "./load.ts";

export interface WindowResult {
  pubacksPerSecond: number;
  kafkaPerSecond: number;
  depthAtEnd?: number;
  appendsPerFsync?: number;
  /** % of one core per process over the window. */
  cpu: Record<string, number>;
}

export interface DrainResult {
  backlog: number;
  ingestPerSecond: number;
  kafkaStartSeconds: number;
  resumeAfterReadySeconds: number;
  drainSeconds: number;
  drainPerSecond: number;
  gatewayCpu: number;
  gatewayWait: number;
  kafkaCpu: number;
}

export interface RoundResult {
  round: number;
  gwT: WindowResult;
  gwL: OpenLoopResult;
  nvT: WindowResult;
  nvL: OpenLoopResult;
  gwSame: OpenLoopResult;
  ceilSerial: number;
  ceilParallel: number;
  drain?: DrainResult;
}

/** Median over rounds, plus "(min–max)" when there is more than one round. */
function stat(rounds: RoundResult[], pick: (r: RoundResult) => number | undefined, digits = 0): string {
  const values = rounds.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (values.length === 0) return "–";
  const m = fmt(median(values), digits);
  if (values.length < 2) return m;
  return `${m} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;
}

export function printReport(rounds: RoundResult[], o: { clients: number; inflight: number }): void {
  const load = `${o.clients} clients × ${o.inflight} in flight`;
  const head = ["system", "Kafka-acked msg/s", "PUBACK msg/s", "open-loop msg/s", "PUBACK p50 ms", "PUBACK p99 ms", "process CPU %", "its run-queue wait %", "Kafka CPU %", "load-gen CPU %"];
  const rows = [
    [
      `ChargeBridge gateway (${load})`,
      stat(rounds, (r) => r.gwT.kafkaPerSecond),
      stat(rounds, (r) => r.gwT.pubacksPerSecond),
      stat(rounds, (r) => r.gwL.rate),
      stat(rounds, (r) => r.gwL.p50, 1),
      stat(rounds, (r) => r.gwL.p99, 1),
      stat(rounds, (r) => r.gwT.cpu.gateway),
      stat(rounds, (r) => r.gwT.cpu.gatewayWait),
      stat(rounds, (r) => r.gwT.cpu.kafka),
      stat(rounds, (r) => r.gwT.cpu.loadgen),
    ],
    [
      `naive bridge (${load})`,
      stat(rounds, (r) => r.nvT.kafkaPerSecond),
      stat(rounds, (r) => r.nvT.pubacksPerSecond),
      stat(rounds, (r) => r.nvL.rate),
      stat(rounds, (r) => r.nvL.p50, 1),
      stat(rounds, (r) => r.nvL.p99, 1),
      stat(rounds, (r) => r.nvT.cpu.naive),
      stat(rounds, (r) => r.nvT.cpu.naiveWait),
      stat(rounds, (r) => r.nvT.cpu.kafka),
      stat(rounds, (r) => r.nvT.cpu.loadgen),
    ],
    ["ChargeBridge gateway at the naive bridge's rate", "", "", stat(rounds, (r) => r.gwSame.rate), stat(rounds, (r) => r.gwSame.p50, 1), stat(rounds, (r) => r.gwSame.p99, 1), "", "", "", ""],
    ["kafkajs ceiling: batches of 500, 1 in flight, idempotent (the gateway's producer)", stat(rounds, (r) => r.ceilSerial), "", "", "", "", "", "", "", ""],
    ["kafkajs ceiling: batches of 500, 4 in flight", stat(rounds, (r) => r.ceilParallel), "", "", "", "", "", "", "", ""],
  ];
  console.log(`\nThroughput and PUBACK latency (median over ${rounds.length} round(s), min–max in brackets):\n`);
  console.log(markdownTable(head, rows));
  const gw = rounds.map((r) => r.gwT);
  console.log(
    `\ngateway window: queue depth at its end ${gw.map((w) => w.depthAtEnd).join(", ")}; appends per fsync ${gw.map((w) => fmt(w.appendsPerFsync, 1)).join(", ")}; ` +
      `open-loop sender lag max ${fmt(Math.max(...rounds.flatMap((r) => [r.gwL.senderLagMs, r.nvL.senderLagMs, r.gwSame.senderLagMs])), 0)} ms`,
  );

  const drains = rounds.filter((r) => r.drain);
  if (drains.length === 0) return;
  const d = (pick: (x: DrainResult) => number, digits = 0) => stat(drains, (r) => pick(r.drain!), digits);
  console.log(`\nDrain after an outage (median over ${drains.length} round(s)):\n`);
  console.log(
    markdownTable(
      ["backlog", "ingest with Kafka down msg/s", "Kafka start s", "first ack after Kafka ready s", "drain s", "drain msg/s", "gateway CPU %", "its run-queue wait %", "Kafka CPU %"],
      [[d((x) => x.backlog), d((x) => x.ingestPerSecond), d((x) => x.kafkaStartSeconds, 1), d((x) => x.resumeAfterReadySeconds, 1), d((x) => x.drainSeconds, 1), d((x) => x.drainPerSecond), d((x) => x.gatewayCpu), d((x) => x.gatewayWait), d((x) => x.kafkaCpu)]],
    ),
  );
}
