import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "./wait.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface LogLine {
  msg?: string;
  level?: number;
  [key: string]: unknown;
}

/** A real child process running one of our entry points, with its JSON log lines collected. */
export interface RunningProcess {
  child: ChildProcess;
  lines: LogLine[];
  output: string[];
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL: no chance to flush anything. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/** The Deno binary from the `deno` npm package (a devDependency), for the gateway's second runtime. */
export const DENO_BIN = `${REPO_ROOT}node_modules/.bin/deno`;

/** Resolves with a child's exit code, once, however often it is asked. */
export function exitOf(child: ChildProcess): { exited: Promise<number | null>; done(): boolean } {
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => ((done = true), resolve(code))));
  return { exited, done: () => done };
}

/** SIGTERM, then SIGKILL if it does not exit within `timeoutMs`; resolves with the exit code. */
export async function stopChild(child: ChildProcess, exit: ReturnType<typeof exitOf>, timeoutMs: number): Promise<number | null> {
  if (exit.done()) return exit.exited;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await exit.exited;
  clearTimeout(timer);
  return code;
}

export function startProcess(script: string, env: Record<string, string>, name = script, runtime: "node" | "deno" = "node"): RunningProcess {
  const [command, args] = runtime === "deno" ? [DENO_BIN, ["run", "-A", script]] : [process.execPath, ["--import", "tsx", script]];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "info", ...env, VITEST: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  const output: string[] = [];
  let buffer = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      output.push(line);
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk));
  const exit = exitOf(child);
  const { exited } = exit;

  return {
    child,
    lines,
    output,
    exited,
    async waitForLog(match, timeoutMs = 60_000, what = "log line") {
      return waitFor(
        () => {
          if (exit.done()) throw new Error(`${name} exited early:\n${output.slice(-30).join("\n")}`);
          return lines.find(match);
        },
        { timeoutMs, what: `${name}: ${what}` },
      );
    },
    stop: (timeoutMs = 20_000) => stopChild(child, exit, timeoutMs),
    async kill() {
      if (exit.done()) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * The environment of an `npm start` (scripts/start.ts) child for tests: free ports, its own data
 * directory, and the embedded defaults forced even if the developer's shell points at Kafka or
 * PostgreSQL.
 */
export function embeddedEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HTTP_PORT: "0", MQTT_PORT: "0", OCPP_PORT: "0", GATEWAY_HTTP_PORT: "0", DATA_DIR: dataDir, KAFKA_BROKERS: "", DATABASE_URL: "", ...extra };
}
