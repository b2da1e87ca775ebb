/**
 * Child process for tests/int/file-queue-crash.int.test.ts, killed with SIGKILL at a random
 * moment. Usage: <node --import tsx | deno run -A> queue-crash-writer.ts <dir> <run>
 *
 * Prints, one per line, only after the fact is durable:
 *   ready <runtime>            the queue is open (recovery done); runtime: "deno 2.x" or "node v20.x"
 *   d <seq> <run> <p> <i>      the append of crashPayload(run, p, i) got `seq` and resolved
 *   A <seq>                    about to ack up to seq (the ack may or may not become durable)
 *   a <seq>                    the ack up to seq resolved
 */
import { openFileQueue } from "../../gateway/queue/file-queue.ts";
import { crashPayload } from "./queue-crash-payload.ts";

const [dir, runArg] = process.argv.slice(2);
if (!dir || !runArg) throw new Error("usage: queue-crash-writer.ts <dir> <run>");
const run = Number(runArg);
const PRODUCERS = 16;

// Small segments and cache so that a kill can land in a rotation, a deletion or a disk read;
// a small bound so that producers also spend time blocked on backpressure.
const queue = await openFileQueue({ dir, maxBytes: 2 * 1024 * 1024, segmentBytes: 48 * 1024, memoryBytes: 64 * 1024 });
const out = (line: string) => process.stdout.write(`${line}\n`);
const deno = (process.versions as Record<string, string | undefined>).deno;
out(`ready ${deno ? `deno ${deno}` : `node ${process.version}`}`);

async function produce(producer: number): Promise<never> {
  for (let index = 0; ; index++) {
    const { seq, durable } = queue.append(crashPayload(run, producer, index));
    await durable;
    out(`d ${seq} ${run} ${producer} ${index}`);
  }
}

/** Acks half of what it sees, keeping a backlog on disk for the next recovery to read. */
async function consume(): Promise<never> {
  for (;;) {
    await queue.waitForData();
    const entries = await queue.peek(1_000);
    if (entries.length >= 600 || queue.stats().blockedAppends > 0) {
      const upto = entries[Math.floor(entries.length / 2)]!.seq;
      out(`A ${upto}`);
      await queue.ack(upto);
      out(`a ${upto}`);
    } else {
      // Pacing of the workload only (lets a backlog build up); nothing waits on it.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

await Promise.race([...Array.from({ length: PRODUCERS }, (_, p) => produce(p)), consume()]);
