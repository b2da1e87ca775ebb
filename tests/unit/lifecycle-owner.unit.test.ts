import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT as ROOT } from "../support/processes.ts";

/**
 * Issue 12: one home for the lifecycle. Every write to reservations, sessions and charge_points
 * is in central/lifecycle/store; a write anywhere else is a second transition path.
 */
const WRITE = /\b(UPDATE\s+(charge_points|reservations|sessions)|INSERT\s+INTO\s+(charge_points|reservations|sessions))\b/i;

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : Promise.resolve(e.name.endsWith(".ts") ? [join(dir, e.name)] : []))),
  );
  return nested.flat();
}

describe("the lifecycle owns its writes", () => {
  it("finds reservation, session and charge-point writes only in central/lifecycle/store", async () => {
    const files = await sources(join(ROOT, "central"));
    const writers: string[] = [];
    for (const f of files) if (WRITE.test(await readFile(f, "utf8"))) writers.push(relative(ROOT, f));
    expect(writers.length).toBeGreaterThan(0); // the pattern does find the store
    expect(writers.filter((f) => !f.startsWith("central/lifecycle/store/"))).toEqual([]);
  });
});
