import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DENO_BIN, embeddedEnv, exitOf, REPO_ROOT } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Issue 10, part 5: a setting, a port or a queue lock in the way ends every entry point with one
 * human-readable line on stderr (JSON logs stay on stdout), no stack trace, and exit 2
 * (configuration) or 1 (environment). Real processes, real sockets holding the ports.
 */
interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function runToExit(argv: string[], env: Record<string, string>): Promise<Outcome> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: "info", ...env, VITEST: "" }, stdio: ["ignore", "pipe", "pipe"] });
  const exit = exitOf(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await exit.exited;
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Exactly one non-empty line on stderr, matching `pattern`, and no stack frame anywhere. */
function expectOneLine(outcome: Outcome, code: number, pattern: RegExp): void {
  const context = `stderr:\n${outcome.stderr}\nstdout:\n${outcome.stdout.slice(-2000)}`;
  expect(outcome.code, context).toBe(code);
  const lines = outcome.stderr.split("\n").filter((l) => l.trim() !== "");
  expect(lines, context).toHaveLength(1);
  expect(lines[0], context).toMatch(pattern);
  expect(outcome.stderr + outcome.stdout, context).not.toMatch(/^\s+at /m);
}

function holdPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    // All interfaces, as a local Mosquitto would, so the default MQTT_HOST 0.0.0.0 collides.
    server.listen(0, "0.0.0.0", () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

const node = (script: string) => [process.execPath, "--import", "tsx", script];
const deno = (script: string) => [DENO_BIN, "run", "-A", script];

describe("start-up refusals: one line, no stack trace", { timeout: 180_000 }, () => {
  let dataDir: string;
  let held: { server: Server; port: number };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cb-startup-"));
    held = await holdPort();
  });

  afterAll(async () => {
    await new Promise((resolve) => held?.server.close(resolve));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("npm start with an OPERATOR_TOKEN under 16 characters: exit 2, naming the variable", async () => {
    const outcome = await runToExit(["npm", "start"], embeddedEnv(dataDir, { OPERATOR_TOKEN: "short" }));
    expectOneLine(outcome, 2, /^chargebridge: Invalid configuration: OPERATOR_TOKEN: .*16/);
  });

  it("npm start with MQTT_PORT taken: exit 1, naming the port and what to do", async () => {
    const outcome = await runToExit(["npm", "start"], embeddedEnv(dataDir, { MQTT_PORT: String(held.port), SIM_CHARGERS: "0" }));
    expectOneLine(outcome, 1, new RegExp(`^chargebridge: MQTT_PORT ${held.port} is in use \\(another MQTT broker\\?\\): set MQTT_PORT to a free port$`));
  });

  it("central with a bad setting: exit 2", async () => {
    const outcome = await runToExit(node("central/main.ts"), embeddedEnv(dataDir, { DATABASE_POOL_SIZE: "none" }));
    expectOneLine(outcome, 2, /^central: Invalid configuration: DATABASE_POOL_SIZE: /);
  });

  it("central with HTTP_PORT taken: exit 1", async () => {
    const outcome = await runToExit(node("central/main.ts"), embeddedEnv(dataDir, { HTTP_PORT: String(held.port) }));
    expectOneLine(outcome, 1, new RegExp(`^central: HTTP_PORT ${held.port} is in use: set HTTP_PORT to a free port$`));
  });

  it("the gateway on Deno with MQTT_PORT taken: the same line, exit 1", async () => {
    const outcome = await runToExit(deno("gateway/main.ts"), embeddedEnv(dataDir, { MQTT_PORT: String(held.port) }));
    expectOneLine(outcome, 1, new RegExp(`^gateway: MQTT_PORT ${held.port} is in use \\(another MQTT broker\\?\\): set MQTT_PORT to a free port$`));
  });

  it("the gateway on Deno with OCPP_PORT taken (exit 1), and with OCPPS_PORT but no certificate (exit 2)", async () => {
    const busy = await runToExit(deno("gateway/main.ts"), embeddedEnv(dataDir, { OCPP_PORT: String(held.port) }));
    expectOneLine(busy, 1, new RegExp(`^gateway: OCPP_PORT ${held.port} is in use: set OCPP_PORT to a free port$`));
    const bad = await runToExit(deno("gateway/main.ts"), embeddedEnv(dataDir, { OCPPS_PORT: "8443" }));
    expectOneLine(bad, 2, /^gateway: Invalid configuration: OCPPS_PORT: needs TLS_CERT_FILE and TLS_KEY_FILE/);
  });

  it("the gateway on Deno with GATEWAY_HTTP_PORT taken, and with a bad setting", async () => {
    const busy = await runToExit(deno("gateway/main.ts"), embeddedEnv(dataDir, { GATEWAY_HTTP_PORT: String(held.port) }));
    expectOneLine(busy, 1, new RegExp(`^gateway: GATEWAY_HTTP_PORT ${held.port} is in use: set GATEWAY_HTTP_PORT to a free port$`));
    const bad = await runToExit(deno("gateway/main.ts"), embeddedEnv(dataDir, { GATEWAY_ID: "no spaces allowed" }));
    expectOneLine(bad, 2, /^gateway: Invalid configuration: GATEWAY_ID: /);
  });

  it("a gateway with CENTRAL_URL but no GATEWAY_TOKEN, or a CENTRAL_URL that is not http(s) (exit 2)", async () => {
    const noToken = await runToExit(node("gateway/main.ts"), embeddedEnv(dataDir, { CENTRAL_URL: "https://central.example:8080" }));
    expectOneLine(noToken, 2, /^gateway: Invalid configuration: GATEWAY_TOKEN: is required when CENTRAL_URL is set$/);
    const badUrl = await runToExit(node("gateway/main.ts"), embeddedEnv(dataDir, { CENTRAL_URL: "ftp://central.example", GATEWAY_TOKEN: "t" }));
    expectOneLine(badUrl, 2, /^gateway: Invalid configuration: CENTRAL_URL: /);
  });

  it("a gateway whose queue another live gateway holds: waits QUEUE_LOCK_WAIT_SECONDS, then exit 1", async () => {
    const queueDir = join(dataDir, "locked", "gateway", "queue");
    await mkdir(queueDir, { recursive: true });
    const holder = spawn(process.execPath, ["--import", "tsx", "tests/support/queue-lock-holder.ts", queueDir], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const holderExit = exitOf(holder);
    let out = "";
    holder.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    try {
      const pid = await waitFor(() => Number(/^ready (\d+)$/m.exec(out)?.[1] ?? 0), { timeoutMs: 30_000, what: "lock holder ready" });
      const outcome = await runToExit(node("gateway/main.ts"), embeddedEnv(join(dataDir, "locked"), { QUEUE_LOCK_WAIT_SECONDS: "1" }));
      expectOneLine(outcome, 1, new RegExp(`^gateway: Queue directory .+ is in use by process ${pid} \\(waited 1 s\\): stop that gateway, or give this one its own DATA_DIR$`));
      expect(outcome.stdout).toContain("Queue directory is in use; waiting for it to be released");
    } finally {
      holder.kill("SIGKILL");
      await holderExit.exited;
    }
  });
});
