import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../support/processes.ts";

const run = promisify(execFile);

describe("compose.yaml", () => {
  it("validates with docker-compose config", async () => {
    try {
      await run("docker-compose", ["config", "-q"], { cwd: REPO_ROOT, env: { ...process.env, OPERATOR_TOKEN: "compose-check-token-123" } });
    } catch (error) {
      const e = error as { code?: string; stderr?: string };
      if (e.code === "ENOENT") throw new Error("docker-compose is required for this test: apt-get install docker-compose (no Docker engine needed)");
      throw new Error(`docker-compose config failed: ${e.stderr ?? String(error)}`);
    }
  });

  it("gives every long-running service a health check and a restart policy", async () => {
    const doc = parse(await readFile(join(REPO_ROOT, "compose.yaml"), "utf8")) as {
      services: Record<string, { healthcheck?: unknown; restart?: string; build?: { dockerfile: string } }>;
    };
    expect(Object.keys(doc.services).sort()).toEqual(["central", "firmware-sim", "gateway", "kafka", "postgres"]);
    for (const [name, service] of Object.entries(doc.services)) {
      expect(service.healthcheck, `${name} healthcheck`).toBeDefined();
      expect(service.restart, `${name} restart`).toBe("unless-stopped");
    }
    for (const name of ["central", "gateway", "firmware-sim"]) {
      const dockerfile = doc.services[name]!.build!.dockerfile;
      await expect(readFile(join(REPO_ROOT, dockerfile), "utf8")).resolves.toContain("CMD");
    }
  });
});
