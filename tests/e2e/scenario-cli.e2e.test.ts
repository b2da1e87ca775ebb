import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSimCli } from "../support/sim-cli.ts";

describe("firmware-sim CLI: refusing bad input before touching anything", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cb-scn-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("exits 2 on a bad scenario file, naming the file and each bad field", async () => {
    const file = join(dir, "broken.yaml");
    await writeFile(file, "name: broken\ndurationSeconds: 10\ndrivers:\n  arrivalsPerMinute: -3\n  noShowFraction: 2\nnetworkDrops:\n  perMinute: 1\n  durationSecs: 2\n");
    // An unreachable API on purpose: the file must be refused before any connection is tried.
    const run = await runSimCli(["--hil", "--api", "http://127.0.0.1:9", "--cp-ids", "a", "--scenario", file], 20_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Invalid scenario file ${file}`);
    expect(run.stderr).toMatch(/drivers\.arrivalsPerMinute: .*>0/);
    expect(run.stderr).toMatch(/drivers\.noShowFraction: .*<=1/);
    expect(run.stderr).toContain("networkDrops.durationSecs: unknown field");
    expect(run.stderr).toContain("networkDrops.durationSeconds: required field is missing");
    expect(run.stdout).toBe("");
  });

  it("exits 2 with usage on a bad flag, and on --hil without the charge points it may use", async () => {
    const [flag, hil] = await Promise.all([
      runSimCli(["--scenari", "x.yaml"], 20_000),
      runSimCli(["--hil", "--scenario", "firmware-sim/scenarios/rush-hour.yaml"], 20_000),
    ]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--scenari'[\s\S]*Usage: npm run sim/);
    expect(hil.code).toBe(2);
    expect(hil.stderr).toContain("--hil needs --cp-ids");
  });
});
