import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type FileQueue, type FileQueueOptions, openFileQueue } from "../../gateway/queue/file-queue.ts";
import { StartupError } from "../../platform/startup-error.ts";
import { exitOf, REPO_ROOT } from "../support/processes.ts";
import { queueTempDirs } from "../support/queue-temp-dir.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The queue directory lock against real processes (issue 10, part 2): a killed holder that is
 * still a zombie, a live holder, a holder that dies while another gateway waits. Runs under Node
 * and under Deno (deno.json's test:gateway), the holder in the same runtime as the test.
 */
const HOLDER = `${REPO_ROOT}tests/support/queue-lock-holder.ts`;
const isDeno = typeof (process.versions as Record<string, string | undefined>).deno === "string";
const holderCommand = (dir: string): string[] =>
  isDeno ? [process.execPath, "run", "-A", HOLDER, dir] : [process.execPath, "--import", "tsx", HOLDER, dir];

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

function threads(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

describe("queue directory lock", () => {
  const dirs = queueTempDirs("qlock");
  const children: ChildProcess[] = [];
  const opened: FileQueue[] = [];
  afterEach(async () => {
    for (const queue of opened.splice(0)) await queue.close();
    for (const child of children.splice(0)) {
      const exit = exitOf(child);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exit.exited;
      }
    }
    await dirs.removeAll();
  });

  /** Spawns `argv` and resolves with the holder's pid once it has printed `ready <pid>`. */
  async function startHolder(argv: string[]): Promise<{ child: ChildProcess; pid: number }> {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    const pid = await waitFor(() => Number(/^ready (\d+)$/m.exec(out)?.[1] ?? 0), { timeoutMs: 30_000, what: `lock holder ready (output: ${out})` });
    return { child, pid };
  }

  async function open(dir: string, extra: Partial<FileQueueOptions> = {}): Promise<FileQueue> {
    const queue = await openFileQueue({ dir, maxBytes: 1 << 20, ...extra });
    opened.push(queue);
    return queue;
  }

  it("opens at once a directory whose holder was SIGKILLed and is still an unreaped zombie", async () => {
    const dir = await dirs.make();
    // perl forks the holder and never waits for it: once killed, it stays a zombie (state Z) for
    // as long as perl lives, like a child its supervisor has not reaped yet.
    const parent = await startHolder(["perl", "-e", "defined(my $pid = fork()) or die; if ($pid == 0) { exec(@ARGV) or die } sleep 600", "--", ...holderCommand(dir)]);
    expect(parent.pid).not.toBe(parent.child.pid);
    await expect(open(dir, { lockWaitMs: 0 })).rejects.toThrow(`in use by process ${parent.pid}`);

    process.kill(parent.pid, "SIGKILL");
    // Z alone is not yet dead: the thread group leader turns Z while its other threads (V8's, libuv's)
    // are still exiting and the descriptor table is still open. Dead is Z with no thread left.
    await waitFor(() => procState(parent.pid) === "Z" && threads(parent.pid) === 1, {
      timeoutMs: 10_000,
      what: `holder ${parent.pid} to be a zombie (state ${procState(parent.pid)}, ${threads(parent.pid)} threads)`,
    });

    // No wait allowed: the zombie must count as dead on the first look, not once it is reaped.
    const queue = await open(dir, { lockWaitMs: 0 });
    expect(procState(parent.pid)).toBe("Z");
    await queue.append(new TextEncoder().encode("after the crash")).durable;
    expect(readFileSync(`${dir}/queue.lock`, "utf8").split(" ")[0]).toBe(String(process.pid));
  });

  it("waits for a live holder, then refuses with one line naming it", async () => {
    const dir = await dirs.make();
    const holder = await startHolder(holderCommand(dir));
    const warnings: string[] = [];
    const started = performance.now();
    const error = await open(dir, { lockWaitMs: 1_500, onWarning: (message) => warnings.push(message) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    console.log(`refused after ${Math.round(performance.now() - started)} ms (bound 1500 ms)`);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).code).toBe("queue_locked");
    expect((error as StartupError).message).toMatch(new RegExp(`^Queue directory .+ is in use by process ${holder.pid} \\(waited 1\\.5 s\\): .+DATA_DIR$`));
    expect((error as StartupError).message).not.toContain("\n");
    expect(warnings).toEqual(["Queue directory is in use; waiting for it to be released"]);
    expect(holder.child.exitCode).toBeNull(); // the holder was never disturbed
  });

  it("lets a waiting opener in once the holder dies during the wait", async () => {
    const dir = await dirs.make();
    const holder = await startHolder(holderCommand(dir));
    const warnings: string[] = [];
    const opening = open(dir, { lockWaitMs: 60_000, onWarning: (message) => warnings.push(message) });
    await waitFor(() => warnings.length > 0, { what: "the opener to start waiting" });
    const killedAt = performance.now();
    holder.child.kill("SIGKILL");
    const queue = await opening;
    console.log(`waiter got the lock ${Math.round(performance.now() - killedAt)} ms after the holder's SIGKILL`);
    expect(queue.stats().depth).toBe(0);
  });

  it("treats a recorded pid that now belongs to another process as dead, and a matching one as the holder", async () => {
    const dir = await dirs.make();
    const { writeFile } = await import("node:fs/promises");
    // pid 1 always runs; with a start time that is not its own it is a reused pid.
    await writeFile(`${dir}/queue.lock`, "1 999999999999\n");
    const first = await open(dir, { lockWaitMs: 0 });
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    const stat = readFileSync("/proc/1/stat", "utf8");
    const startOfPid1 = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    await writeFile(`${dir}/queue.lock`, `1 ${startOfPid1}\n`);
    await expect(open(dir, { lockWaitMs: 0 })).rejects.toThrow(/in use by process 1 /);
  });
});
