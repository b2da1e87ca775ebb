import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient } from "../support/api-client.ts";
import { embeddedEnv, startProcess, type RunningProcess } from "../support/processes.ts";
import { runSimCli, startSimCli, type RunningCli } from "../support/sim-cli.ts";
import { expectChargersOnline } from "./charge-flow.scenario.ts";

const TTL_SECONDS = 4;
const HARDWARE = ["hil-cp-001", "hil-cp-002", "hil-cp-003"];

/**
 * The hardware-in-loop harness against the `npm start` composition. The "hardware" is a
 * separate firmware-sim fleet process; the harness process knows the chargers only by their ids
 * and sees them only through Central's REST API, exactly as it would see physical chargers.
 */
// Each scenario runs for about 10 s of real time; leave room for a slower machine.
describe("firmware-sim HIL harness against npm start", { timeout: 120_000 }, () => {
  let system: RunningProcess;
  let hardware: RunningCli;
  let dataDir: string;
  let apiUrl: string;
  let mqttUrl: string;
  let operatorToken: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cb-hil-"));
    system = startProcess(
      "scripts/start.ts",
      embeddedEnv(dataDir, {
        SIM_CHARGERS: "0",
        RESERVATION_TTL_SECONDS: String(TTL_SECONDS),
        OPERATOR_TOKEN: "",
      }),
      "npm start",
    );
    const ready = await system.waitForLog((l) => l.msg === "ChargeBridge is running", 90_000, "ready line");
    expect(ready).toMatchObject({ simChargers: 0 });
    apiUrl = ready.apiUrl as string;
    mqttUrl = ready.mqttUrl as string;
    operatorToken = ready.operatorToken as string;
    hardware = startSimCli([
      ...["--count", "3", "--prefix", "hil-cp", "--url", mqttUrl, "--api", apiUrl, "--token", operatorToken],
      ...["--credentials", join(dataDir, "hardware.json"), "--meter-ms", "300", "--heartbeat-ms", "5000"],
    ]);
    await expectChargersOnline(apiClient(apiUrl), operatorToken, HARDWARE);
  });

  afterAll(async () => {
    await hardware?.stop();
    await system?.kill();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("runs rush-hour in HIL mode over REST only and reports that every invariant holds", async () => {
    const reportFile = join(dataDir, "hil-report.json");
    const run = await runSimCli(
      ["--hil", "--api", apiUrl, "--token", operatorToken, "--cp-ids", HARDWARE.join(","), "--scenario", "firmware-sim/scenarios/rush-hour.yaml", "--duration", "8", "--report", reportFile],
      60_000,
    );
    expect(run.stderr).toMatch(/rush-hour \d+s done/); // the summary line
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain("RESULT: all invariants hold");
    const report = JSON.parse(await readFile(reportFile, "utf8"));
    expect(report).toMatchObject({ ok: true, mode: "hil", chargers: { count: 3, simulated: false } });
    expect(report.invariants.map((i: { name: string; ok: boolean; method: string }) => [i.name, i.ok, i.method])).toEqual([
      ["no_reservation_stuck", true, "rest"],
      ["sessions_stopped", true, "rest"],
      ["commands_answered", true, "rest"],
    ]);
    // Not a pass over nothing: drivers reserved, charged and stopped on the "hardware".
    expect(report.drivers.sessions_started).toBeGreaterThan(0);
    expect(report.sessions.stopped).toBe(report.sessions.count);
    expect(report.apiCalls.errors).toBe(0);
  });

  it("runs flaky-network with its own simulated chargers and checks the simulator's records too", async () => {
    const reportFile = join(dataDir, "sim-report.json");
    const run = await runSimCli(
      [
        ...["--api", apiUrl, "--url", mqttUrl, "--token", operatorToken, "--credentials", join(dataDir, "scn.json"), "--count", "4"],
        ...["--scenario", "firmware-sim/scenarios/flaky-network.yaml", "--duration", "8", "--report", reportFile],
      ],
      60_000,
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(await readFile(reportFile, "utf8"));
    expect(report).toMatchObject({ ok: true, mode: "sim" });
    const byName = Object.fromEntries(report.invariants.map((i: { name: string }) => [i.name, i]));
    expect(byName.commands_answered).toMatchObject({ ok: true, method: "rest+simulator" });
    expect(byName.energy_matches_meter.ok).toBe(true);
    expect(report.chaos.networkDrops).toBeGreaterThan(0);
    expect(report.drivers.sessions_started).toBeGreaterThan(0);
  });
});
