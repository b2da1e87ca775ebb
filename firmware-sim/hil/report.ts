import type { FleetCharger } from "../charger.ts";
import type { Fleet as AnyFleet } from "../fleet.ts";

type Fleet = AnyFleet<FleetCharger>;
import type { ChaosStats } from "../scenario/chaos.ts";
import type { Scenario } from "../scenario/schema.ts";
import type { InvariantResult } from "./invariants.ts";
import type { Ledger, SessionView } from "./ledger.ts";
import type { RestStats } from "./rest.ts";

/** Violations listed per invariant in the report; the count is always complete. */
const MAX_LISTED = 50;

export interface Report {
  ok: boolean;
  mode: "sim" | "hil";
  scenario: { name: string; file: string; seed: number; durationSeconds: number; drainSeconds: number };
  api: string;
  startedAt: string;
  finishedAt: string;
  elapsedSeconds: number;
  chargers: { count: number; simulated: boolean; cpIds?: string[] };
  drivers: Record<string, number>;
  /** Reservations by how they ended: `status:endReason`. */
  reservations: Record<string, number>;
  sessions: { count: number; stopped: number; late: number; energyWh: number; byStopReason: Record<string, number> };
  chaos: (ChaosStats & { clockSkewMs: [number, number] }) | { note: string };
  /** Totals since the chargers started; `perSecond` is over this run only. */
  messages: { produced: number; acked: number; perSecond: number; bufferDropped: number; firmwareLocalExpiries: number } | null;
  apiCalls: RestStats;
  errors: string[];
  invariants: (InvariantResult & { violationCount: number })[];
}

export interface ReportInput {
  scenario: Scenario;
  scenarioFile: string;
  seed: number;
  apiUrl: string;
  cpIds: string[];
  fleet?: Fleet;
  chaos: ChaosStats | null;
  ledger: Ledger;
  sessions: SessionView[];
  invariants: InvariantResult[];
  api: RestStats;
  errors: string[];
  startedAt: number;
  /** The fleet's message count when the run began (connect-time messages are not the run's). */
  producedBefore: number;
}

function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values.sort()) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export function buildReport(i: ReportInput): Report {
  const now = Date.now();
  const fs = i.fleet?.stats();
  const chargers = i.fleet ? [...i.fleet.chargers.values()] : [];
  return {
    ok: i.invariants.every((r) => r.ok),
    mode: i.fleet ? "sim" : "hil",
    scenario: { name: i.scenario.name, file: i.scenarioFile, seed: i.seed, durationSeconds: i.scenario.durationSeconds, drainSeconds: i.scenario.drainSeconds },
    api: i.apiUrl,
    startedAt: new Date(i.startedAt).toISOString(),
    finishedAt: new Date(now).toISOString(),
    elapsedSeconds: Math.round((now - i.startedAt) / 100) / 10,
    chargers: { count: i.cpIds.length, simulated: Boolean(i.fleet), ...(i.cpIds.length <= 50 ? { cpIds: i.cpIds } : {}) },
    drivers: i.ledger.outcomes(),
    reservations: tally([...i.ledger.reservations.values()].map((r) => `${r.status}:${r.endReason ?? "-"}`)),
    sessions: {
      count: i.sessions.length,
      stopped: i.sessions.filter((s) => s.stoppedAt).length,
      late: i.sessions.filter((s) => s.late).length,
      energyWh: i.sessions.reduce((sum, s) => sum + (s.energyWh ?? 0), 0),
      byStopReason: tally(i.sessions.map((s) => s.stopReason ?? "(open)")),
    },
    chaos: i.chaos
      ? { ...i.chaos, clockSkewMs: i.scenario.chargers.clockSkewMs }
      : { note: "not injected: the chargers are not simulated by this process (faults, network drops and clock skew are the hardware's own)" },
    messages: fs
      ? {
          produced: fs.produced,
          acked: fs.acked,
          perSecond: Math.round(((fs.produced - i.producedBefore) / Math.max(1, now - i.startedAt)) * 1000 * 10) / 10,
          bufferDropped: fs.dropped,
          firmwareLocalExpiries: chargers.reduce((n, c) => n + c.firmware.localExpiries, 0),
        }
      : null,
    apiCalls: i.api,
    errors: i.errors,
    invariants: i.invariants.map((r) => ({ ...r, violations: r.violations.slice(0, MAX_LISTED), violationCount: r.violations.length })),
  };
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const lpad = (s: string | number, n: number) => String(s).padStart(n);

/** The human-readable form: activity, then one row per invariant, then the verdict. */
export function formatReport(r: Report): string {
  const lines: string[] = [];
  const kv = (k: string, v: string | number) => lines.push(`  ${pad(k, 36)} ${v}`);
  lines.push(
    `Scenario ${r.scenario.name} (${r.scenario.file}), ${r.mode === "sim" ? "simulated chargers" : "hardware-in-loop"}, seed ${r.scenario.seed}`,
    `  ${r.chargers.count} charge points, API ${r.api}, ${r.elapsedSeconds} s (arrivals ${r.scenario.durationSeconds} s, drain up to ${r.scenario.drainSeconds} s)`,
    "",
    "Activity",
  );
  for (const [k, v] of Object.entries(r.drivers)) kv(k.replaceAll("_", " "), v);
  lines.push("", "Reservations by end (status:reason)");
  for (const [k, v] of Object.entries(r.reservations)) kv(k, v);
  lines.push("", "Sessions");
  kv("sessions", `${r.sessions.count} (${r.sessions.stopped} stopped, ${r.sessions.late} late)`);
  kv("energy delivered", `${(r.sessions.energyWh / 1000).toFixed(3)} kWh`);
  for (const [k, v] of Object.entries(r.sessions.byStopReason)) kv(`stopped: ${k}`, v);
  lines.push("", "Chargers");
  if ("note" in r.chaos) kv("chaos", r.chaos.note);
  else {
    kv("faults injected", r.chaos.faults);
    kv("network drops injected", r.chaos.networkDrops);
    kv("clock skew range", `${r.chaos.clockSkewMs[0]}..${r.chaos.clockSkewMs[1]} ms`);
  }
  if (r.messages) {
    kv("messages sent / acknowledged", `${r.messages.produced} / ${r.messages.acked} (${r.messages.perSecond} msg/s during the run)`);
    kv("dropped by full offline buffers", r.messages.bufferDropped);
    kv("reservations expired by the charger", r.messages.firmwareLocalExpiries);
  }
  kv("API requests / errors / rate-limited", `${r.apiCalls.requests} / ${r.apiCalls.errors} / ${r.apiCalls.rateLimited}`);
  lines.push("", `  ${pad("Invariant", 24)} ${pad("Result", 6)} ${lpad("Checked", 8)} ${lpad("Violations", 10)}  Evidence`);
  for (const inv of r.invariants) {
    lines.push(`  ${pad(inv.name, 24)} ${pad(inv.ok ? "PASS" : "FAIL", 6)} ${lpad(inv.checked, 8)} ${lpad(inv.violationCount, 10)}  ${inv.method}`);
    for (const v of inv.violations.slice(0, 5)) lines.push(`      ${JSON.stringify(v)}`);
  }
  for (const e of r.errors.slice(0, 5)) lines.push(`  error: ${e}`);
  lines.push("", r.ok ? "RESULT: all invariants hold" : `RESULT: ${r.invariants.filter((i) => !i.ok).map((i) => i.name).join(", ")} violated`);
  return lines.join("\n");
}
