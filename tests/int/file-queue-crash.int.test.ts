import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openFileQueue } from "../../gateway/queue/file-queue.ts";
import { crashPayload, parseCrashPayload } from "../support/queue-crash-payload.ts";
import { queueTempDirs } from "../support/queue-temp-dir.ts";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const writer = fileURLToPath(new URL("../support/queue-crash-writer.ts", import.meta.url));

/** The writer runs on the runtime running this test: Deno when the suite runs under Deno. */
function writerCommand(dir: string, run: number): [string, string[]] {
  const isDeno = typeof (process.versions as Record<string, string | undefined>).deno === "string";
  return isDeno
    ? [process.execPath, ["run", "-A", writer, dir, String(run)]]
    : [process.execPath, ["--import", "tsx", writer, dir, String(run)]];
}

interface KilledRun {
  lines: string[];
  stderr: string;
  signal: NodeJS.Signals | null;
  code: number | null;
}

/** Starts the writer and SIGKILLs it as soon as it has reported `killAfter` durable appends. */
function runAndKill(dir: string, run: number, killAfter: number, timeoutMs = 60_000): Promise<KilledRun> {
  const [command, args] = writerCommand(dir, run);
  const child = spawn(command, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  let durableSeen = 0;
  let killed = false;
  const kill = () => {
    if (!killed) {
      killed = true;
      child.kill("SIGKILL");
    }
  };
  // A deadline, not a synchronisation: a writer that stops making progress fails the test.
  const deadline = setTimeout(kill, timeoutMs);
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      if (line.startsWith("d ")) durableSeen += 1;
      if ((line.startsWith("ready") && killAfter === 0) || durableSeen >= killAfter) kill();
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    // "close" fires after stdout is drained: every line the writer printed before dying is in.
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      // A line cut by the kill carries no promise: the writer prints a line only after the fact.
      resolve({ lines, stderr, signal, code });
    });
  });
}

describe("file queue under kill -9", () => {
  const dirs = queueTempDirs("fq-crash");
  afterAll(() => dirs.removeAll());

  it("recovers every append that resolved, and every ack, across repeated kills", { timeout: 240_000 }, async () => {
    const dir = await dirs.make();
    // Everything the writers reported, over all runs: seq -> payload identity.
    const reported = new Map<number, { run: number; producer: number; index: number }>();
    let ackIntended = 0; // an ack that may have become durable
    let ackDone = 0; // an ack that certainly did
    let highestReported = 0;
    const thresholds = [0, 1, ...Array.from({ length: 5 }, () => 1 + Math.floor(Math.random() * 4_000))];
    const log: string[] = [];

    for (let run = 1; run <= thresholds.length; run++) {
      const killAfter = thresholds[run - 1]!;
      const result = await runAndKill(dir, run, killAfter);
      const context = `run ${run} (kill after ${killAfter} durable appends; all thresholds ${thresholds.join(",")})`;
      expect(result.signal, `${context}: writer must die by SIGKILL, not by itself. stderr:\n${result.stderr}`).toBe("SIGKILL");

      let durableThisRun = 0;
      const runtime = result.lines.find((l) => l.startsWith("ready "))?.slice("ready ".length) ?? "killed before ready";
      for (const line of result.lines) {
        const [kind, a, b, c, d] = line.split(" ");
        if (kind === "d") {
          const seq = Number(a);
          reported.set(seq, { run: Number(b), producer: Number(c), index: Number(d) });
          highestReported = Math.max(highestReported, seq);
          durableThisRun += 1;
        } else if (kind === "A") ackIntended = Math.max(ackIntended, Number(a));
        else if (kind === "a") ackDone = Math.max(ackDone, Number(a));
      }

      const warnings: string[] = [];
      const queue = await openFileQueue({ dir, maxBytes: 1 << 30, onWarning: (message) => warnings.push(message) });
      try {
        const entries = await queue.peek(Number.MAX_SAFE_INTEGER);
        // No garbage: every recovered entry is exactly a payload some writer appended...
        for (const entry of entries) {
          const id = parseCrashPayload(entry.data);
          expect(id, `${context}: seq ${entry.seq} is not a writer payload`).toBeDefined();
          expect(entry.data, `${context}: seq ${entry.seq} payload`).toEqual(crashPayload(id!.run, id!.producer, id!.index));
          const known = reported.get(entry.seq);
          if (known) expect(id, `${context}: seq ${entry.seq} holds another append's payload`).toEqual(known);
        }
        // ...in one contiguous run of seqs, each producer's appends in order.
        entries.forEach((e, i) => i > 0 && expect(e.seq, `${context}: seqs contiguous`).toBe(entries[i - 1]!.seq + 1));
        const byProducer = new Map<string, number>();
        for (const entry of entries) {
          const id = parseCrashPayload(entry.data)!;
          const key = `${id.run}/${id.producer}`;
          expect(id.index, `${context}: producer ${key} order`).toBeGreaterThan(byProducer.get(key) ?? -1);
          byProducer.set(key, id.index);
        }

        // Acks are durable: nothing at or below a resolved ack comes back.
        const first = entries[0]?.seq;
        if (first !== undefined) expect(first, context).toBeGreaterThan(ackDone);
        // Every resolved append is there, unless an ack (maybe durable) covered it.
        const present = new Set(entries.map((e) => e.seq));
        const missing = [...reported.keys()].filter((seq) => seq > ackIntended && !present.has(seq));
        expect(missing, `${context}: resolved appends lost`).toEqual([]);
        // A gap at the front is explained by an ack the writer issued.
        if (first !== undefined) expect(first - 1, context).toBeLessThanOrEqual(ackIntended);

        // Seqs are never reused after a reported append. The probe is a payload of "run 0" and
        // joins the reported set, so the next run checks it like any writer's entry.
        const probeId = { run: 0, producer: 0, index: run };
        const probe = queue.append(crashPayload(probeId.run, probeId.producer, probeId.index));
        expect(probe.seq, context).toBeGreaterThan(highestReported);
        await probe.durable;
        reported.set(probe.seq, probeId);
        highestReported = probe.seq;
        log.push(`${context} [writer on ${runtime}]: ${durableThisRun} reported, ${entries.length} recovered, warnings: ${warnings.length}`);
      } finally {
        await queue.close();
      }
    }
    // At least some runs must have got far enough to mean something.
    expect(reported.size).toBeGreaterThan(1_000);
    console.log(log.join("\n"));
  });
});
