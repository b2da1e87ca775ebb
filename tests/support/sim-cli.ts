import { spawn, type ChildProcess } from "node:child_process";
import { exitOf, REPO_ROOT, stopChild } from "./processes.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL if it does not exit in time; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

/** `npm run sim -- …args` as a real child process (node --import tsx firmware-sim/cli.ts). */
export function startSimCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, ["--import", "tsx", "firmware-sim/cli.ts", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", ...env, VITEST: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exit = exitOf(child);
  return {
    child,
    exited: exit.exited,
    stdout: () => out,
    stderr: () => err,
    stop: (timeoutMs = 10_000) => stopChild(child, exit, timeoutMs),
  };
}

/** Runs the CLI to completion; a run that outlives `timeoutMs` is killed and reported as such. */
export async function runSimCli(args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<CliRun> {
  const cli = startSimCli(args, env);
  const timer = setTimeout(() => cli.child.kill("SIGKILL"), timeoutMs);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
