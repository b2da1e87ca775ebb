import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadScenario, parseScenario, ScenarioError } from "../../firmware-sim/scenario/schema.ts";

const SHIPPED = new URL("../../firmware-sim/scenarios/", import.meta.url);

function problemsOf(text: string, file = "bad.yaml"): string {
  try {
    parseScenario(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error("expected the scenario to be refused");
}

describe("scenario files", () => {
  it.each(["rush-hour.yaml", "quiet-night.yaml", "flaky-network.yaml"])("shipped %s parses, is short enough for CI, and has a fixed seed", async (name) => {
    const s = await loadScenario(new URL(name, SHIPPED).pathname);
    expect(s.name).toBe(name.replace(".yaml", ""));
    expect(s.durationSeconds).toBeLessThanOrEqual(30);
    expect(s.seed).toBeTypeOf("number");
    expect(s.drivers.arrivalsPerMinute).toBeGreaterThan(0);
  });

  it("every file in firmware-sim/scenarios/ is valid", async () => {
    const files = readdirSync(SHIPPED).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) await expect(loadScenario(new URL(f, SHIPPED).pathname)).resolves.toBeDefined();
  });

  it("fills defaults and turns a single number into a range", () => {
    const s = parseScenario("name: x\ndurationSeconds: 5\ndrivers:\n  arrivalsPerMinute: 6\n  chargeSeconds: 4\nfaults:\n  perMinute: 1\n  durationSeconds: [1, 2]\n", "x.yaml");
    expect(s.drivers.chargeSeconds).toEqual([4, 4]);
    expect(s.faults?.durationSeconds).toEqual([1, 2]);
    expect(s.networkDrops).toBeUndefined();
    expect(s.chargers.clockSkewMs).toEqual([0, 0]);
    expect(s.invariants.graceSeconds).toBe(5);
  });

  it("--duration overrides the file's durationSeconds", () => {
    expect(parseScenario("name: x\ndurationSeconds: 5\ndrivers:\n  arrivalsPerMinute: 6\n", "x.yaml", { durationSeconds: 2 }).durationSeconds).toBe(2);
  });

  it("a bad file fails with every problem named by field, and the file named", () => {
    const message = problemsOf(
      "name: x\ndurationSeconds: 0\ndrivers:\n  arrivalsPerMinute: 6\n  noShowFraction: 1.5\n  noShow: 0.2\nchargers:\n  clockSkewMs: [500, -500]\n",
      "scenarios/broken.yaml",
    );
    expect(message).toContain("Invalid scenario file scenarios/broken.yaml");
    expect(message).toMatch(/durationSeconds: .*>0/);
    expect(message).toMatch(/drivers\.noShowFraction: .*<=1/);
    expect(message).toContain("drivers.noShow: unknown field");
    expect(message).toContain("chargers.clockSkewMs: range must be [min, max] with min <= max");
  });

  it("names a missing required field, a YAML syntax error's line, and a file that is not a mapping", () => {
    expect(problemsOf("name: x\ndurationSeconds: 5\n")).toContain("drivers: required field is missing");
    expect(problemsOf("name: x\ndrivers: [\n")).toMatch(/YAML syntax error at line \d+, column \d+/);
    expect(problemsOf("- just\n- a list\n")).toContain("expected a mapping");
  });

  it("refuses fractions of drivers that add up to more than everyone", () => {
    expect(problemsOf("name: x\ndurationSeconds: 5\ndrivers:\n  arrivalsPerMinute: 6\n  noShowFraction: 0.7\n  cancelFraction: 0.5\n")).toContain(
      "drivers.cancelFraction: noShowFraction + cancelFraction must not exceed 1",
    );
  });

  it("a missing file is a ScenarioError naming it", async () => {
    await expect(loadScenario("/nonexistent/rush.yaml")).rejects.toThrow(/Invalid scenario file \/nonexistent\/rush.yaml:[\s\S]*cannot read/);
  });
});

describe("scenario error messages", () => {
  it("tells a wrong value from a missing one", () => {
    const message = problemsOf("name: x\ndurationSeconds: soon\ndrivers:\n  arrivalsPerMinute: 6\n  chargeSeconds: [1, 2, 3]\n");
    expect(message).toContain("durationSeconds: Invalid input: expected number, received string");
    expect(message).toContain("drivers.chargeSeconds: expected a number or a range [min, max]");
    expect(message).not.toContain("missing");
  });
});
