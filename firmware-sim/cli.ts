/**
 * firmware-sim's command line. Three modes:
 *
 *   npm run sim -- --count 1000 --url mqtt://… --api http://… --token <operator>
 *       a fleet of simulated chargers that runs until stopped (provisioned through the API)
 *   npm run sim -- --count 50 --url … --api … --token … --scenario firmware-sim/scenarios/rush-hour.yaml
 *       the same fleet plus drivers, faults and outages from a scenario; invariants checked; exits
 *   npm run sim -- --hil --api … --token … --cp-ids a,b,c --scenario …
 *       hardware-in-loop: drivers through REST against existing charge points; see docs/hil.md
 *
 * `--protocol ocpp1.6` makes the simulated chargers OCPP 1.6J boxes (`--url ws://…:8092/ocpp`, the
 * base the charger appends its cpId to; `--connectors N` per box) instead of MQTT ones.
 *
 * Progress goes to stderr, the report to stdout (and --report FILE as JSON).
 * Exit codes: 0 invariants hold, 1 an invariant is violated, 2 bad usage or scenario file,
 * 3 the run could not be carried out (API unreachable, provisioning refused, chargers not online).
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createLogger } from "../platform/logger.ts";
import { onShutdown } from "../platform/shutdown.ts";
import type { FleetCharger } from "./charger.ts";
import { simCpIds, startFleet, type Fleet, type FleetOptions } from "./fleet.ts";
import { ocppChargePointIds, startOcppFleet } from "./ocpp/ocpp-fleet.ts";
import { Harness, type Snapshot } from "./hil/harness.ts";
import { formatReport, type Report } from "./hil/report.ts";
import { restClient } from "./hil/rest.ts";
import { ProgressLine, RateMeter } from "./progress.ts";
import { provisionChargers } from "./provision.ts";
import { fleetOptionsFor } from "./scenario/fleet-options.ts";
import { Rng } from "./scenario/random.ts";
import { loadScenario, ScenarioError, type Scenario } from "./scenario/schema.ts";

const EXIT = { ok: 0, violated: 1, usage: 2, runtime: 3 } as const;

class UsageError extends Error {}

const USAGE = `Usage: npm run sim -- [--count N] [--url mqtt://…] [--api http://…] [--token T]
                      [--protocol mqtt|ocpp1.6 [--connectors N]]   (OCPP: --url ws://…:8092/ocpp)
                      [--scenario FILE [--duration S] [--seed N] [--report FILE]]
                      [--hil --cp-ids a,b,c --scenario FILE]   (see docs/hil.md)`;

function parse() {
  try {
    return parseArgs({
      strict: true,
      options: {
        count: { type: "string" },
        url: { type: "string" },
        protocol: { type: "string", default: "mqtt" },
        connectors: { type: "string" },
        api: { type: "string", default: process.env.API_URL ?? "http://127.0.0.1:8080" },
        token: { type: "string", default: process.env.OPERATOR_TOKEN || undefined },
        prefix: { type: "string" },
        credentials: { type: "string", default: "./data/sim/credentials.json" },
        "meter-ms": { type: "string", default: "10000" },
        "heartbeat-ms": { type: "string", default: "30000" },
        scenario: { type: "string" },
        duration: { type: "string" },
        seed: { type: "string" },
        report: { type: "string" },
        hil: { type: "boolean", default: false },
        "cp-ids": { type: "string" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive whole number, got '${value}'`);
  return n;
}

function positiveNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number of seconds, got '${value}'`);
  return n;
}

type Args = ReturnType<typeof parse>;

type Protocol = "mqtt" | "ocpp1.6";

/** The transport's defaults; --url wins. Checked before anything is provisioned. */
function transport(args: Args): { protocol: Protocol; url: string; connectors: number } {
  const protocol = args.protocol as Protocol;
  if (protocol !== "mqtt" && protocol !== "ocpp1.6") throw new UsageError(`--protocol must be mqtt or ocpp1.6, got '${args.protocol}'`);
  const connectors = positiveInt(args.connectors, "--connectors") ?? 1;
  if (protocol === "mqtt" && connectors !== 1) throw new UsageError("--connectors needs --protocol ocpp1.6 (an MQTT charger is one charge point)");
  const url = args.url ?? (protocol === "mqtt" ? (process.env.MQTT_URL ?? "mqtt://127.0.0.1:1883") : "ws://127.0.0.1:8092/ocpp");
  return { protocol, url, connectors };
}

/** Provisions the charge points (each OCPP connector is one) and starts the fleet on the chosen transport. */
async function launchFleet(
  args: Args,
  boxes: string[],
  token: string,
  common: Omit<FleetOptions, "url" | "chargers">,
): Promise<{ fleet: Fleet<FleetCharger>; cpIds: string[] }> {
  const t = transport(args);
  const cpIds = t.protocol === "mqtt" ? boxes : ocppChargePointIds(boxes, t.connectors);
  const creds = await provisionChargers({ apiUrl: args.api!, operatorToken: token, cpIds, credentialsFile: args.credentials });
  if (t.protocol === "mqtt") return { fleet: await startFleet({ ...common, url: t.url, chargers: creds }), cpIds };
  const boxSet = new Set(boxes);
  const { perCharger, ...rest } = common;
  const fleet = await startOcppFleet({ ...rest, ...(perCharger ? { perCharger: (id, i) => perCharger(id, i) } : {}), url: t.url, connectors: t.connectors, chargers: creds.filter((c) => boxSet.has(c.cpId)) });
  return { fleet, cpIds };
}

async function runFleetForever(args: Args): Promise<void> {
  const log = createLogger("firmware-sim");
  const count = positiveInt(args.count ?? process.env.SIM_CHARGERS ?? "5", "--count")!;
  if (!args.token) throw new UsageError("--token (or OPERATOR_TOKEN) is required to provision chargers");
  const progress = new ProgressLine();
  const status = { text: `sim: provisioning ${count} chargers through ${args.api}` };
  progress.start(() => status.text);
  const { url, protocol } = transport(args);
  const { fleet } = await launchFleet(args, simCpIds(count, args.prefix ?? "sim-cp"), args.token, {
    meterMs: positiveInt(args["meter-ms"], "--meter-ms"),
    heartbeatMs: positiveInt(args["heartbeat-ms"], "--heartbeat-ms"),
    onConnected: (n, total) => (status.text = `sim: connecting ${n}/${total} to ${url}`),
  });
  log.info({ count, url, protocol }, "Simulated chargers connected");
  const rate = new RateMeter();
  const started = Date.now();
  progress.start(() => {
    const s = fleet.stats();
    const by = s.byStatus;
    return `sim ${Math.round((Date.now() - started) / 1000)}s | connected ${s.connected}/${s.chargers} | available ${by.available} reserved ${by.reserved} charging ${by.charging} faulted ${by.faulted} | ${rate.sample(s.produced).toFixed(1)} msg/s | buffered ${s.buffered} dropped ${s.dropped}`;
  });
  onShutdown(log, async () => {
    progress.stop();
    await fleet.stop();
  });
}

function renderScenario(name: string, snap: Snapshot, fleet: Fleet<FleetCharger> | undefined, rate: RateMeter): string {
  const o = snap.outcomes;
  const cp = snap.chargePoints;
  const parts = [`${name} ${Math.round(snap.elapsedMs / 1000)}s ${snap.phase}`];
  if (fleet) {
    const s = fleet.stats();
    parts.push(`connected ${s.connected}/${s.chargers} charging ${s.byStatus.charging} reserved ${s.byStatus.reserved} faulted ${s.byStatus.faulted}`);
  } else {
    parts.push(`online ${cp.online ?? 0} charging ${cp.charging ?? 0} reserved ${cp.reserved ?? 0} faulted ${cp.faulted ?? 0}`);
  }
  parts.push(`drivers ${o.drivers_arrived ?? 0} sessions ${o.sessions_started ?? 0} no-shows ${o.no_shows ?? 0} live ${snap.liveReservations}`);
  parts.push(`stuck ${snap.stuck}`);
  if (fleet) parts.push(`${rate.sample(fleet.stats().produced).toFixed(1)} msg/s`);
  return parts.join(" | ");
}

async function runScenario(args: Args): Promise<number> {
  const scenario: Scenario = await loadScenario(args.scenario!, { durationSeconds: positiveNumber(args.duration, "--duration") });
  const seed = positiveInt(args.seed, "--seed") ?? scenario.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rest = restClient(args.api!);
  let fleet: Fleet<FleetCharger> | undefined;
  let cpIds: string[];
  if (args.hil) {
    cpIds = (args["cp-ids"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    if (cpIds.length === 0) throw new UsageError("--hil needs --cp-ids a,b,c: the charge points the run may use");
  } else {
    if (!args.token) throw new UsageError("--token (or OPERATOR_TOKEN) is required to provision simulated chargers; use --hil for existing ones");
    const count = positiveInt(args.count, "--count") ?? scenario.chargers.count;
    const boxes = simCpIds(count, args.prefix ?? "scn-cp");
    const { url } = transport(args);
    const setup = new ProgressLine();
    const status = { text: `${scenario.name}: provisioning ${count} chargers through ${rest.baseUrl}` };
    setup.start(() => status.text);
    try {
      const onConnected = (n: number, total: number) => (status.text = `${scenario.name}: connecting ${n}/${total} to ${url}`);
      ({ fleet, cpIds } = await launchFleet({ ...args, api: rest.baseUrl }, boxes, args.token, { onConnected, ...fleetOptionsFor(scenario, new Rng(seed ^ 0xc1a55)) }));
    } finally {
      setup.stop();
    }
  }
  const harness = new Harness({ scenario, scenarioFile: args.scenario!, rest, cpIds, fleet, token: args.token, seed });
  const progress = new ProgressLine();
  const rate = new RateMeter();
  progress.start(() => renderScenario(scenario.name, harness.snapshot(), fleet, rate));
  let report: Report;
  try {
    report = await harness.run();
  } finally {
    progress.stop();
    await fleet?.stop();
  }
  process.stdout.write(`${formatReport(report)}\n`);
  if (args.report) await writeFile(args.report, `${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? EXIT.ok : EXIT.violated;
}

async function main(): Promise<void> {
  let code: number;
  try {
    const args = parse();
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    if (args.hil && !args.scenario) throw new UsageError("--hil needs --scenario FILE");
    const scenarioOnly = (["duration", "seed", "report", "cp-ids"] as const).filter((k) => args[k] !== undefined);
    if (!args.scenario && scenarioOnly.length > 0) throw new UsageError(`--${scenarioOnly.join(", --")} need${scenarioOnly.length === 1 ? "s" : ""} --scenario FILE`);
    transport(args); // a wrong --protocol or --connectors is refused before anything is provisioned
    if (!args.scenario) return await runFleetForever(args);
    code = await runScenario(args);
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof ScenarioError;
    // On a terminal the progress line may be half-drawn: start the message on a line of its own.
    process.stderr.write(`${process.stderr.isTTY ? "\n" : ""}firmware-sim: ${(error as Error).message}\n${error instanceof UsageError ? `${USAGE}\n` : ""}`);
    code = usage ? EXIT.usage : EXIT.runtime;
  }
  // Open sockets and timers must not keep a finished run alive.
  process.exit(code);
}

await main();
