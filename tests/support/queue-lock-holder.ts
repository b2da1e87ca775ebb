/**
 * Child process for tests/unit/queue-lock.unit.test.ts: opens the file queue in <dir>, prints
 * `ready <pid>` once it holds the directory, and then holds it until it is killed.
 * Usage: <node --import tsx | deno run -A> queue-lock-holder.ts <dir>
 */
import { openFileQueue } from "../../gateway/queue/file-queue.ts";

const [dir] = process.argv.slice(2);
if (!dir) throw new Error("usage: queue-lock-holder.ts <dir>");
await openFileQueue({ dir, maxBytes: 1 << 20, lockWaitMs: 0 });
process.stdout.write(`ready ${process.pid}\n`);
// Nothing else keeps the event loop alive (the lock's socket is unref'd); hold until killed.
setInterval(() => {}, 60_000);
