import { createHash } from "node:crypto";
import { open, readFile, realpath, unlink } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { StartupError } from "../../platform/startup-error.ts";
import { describeOwner, isOwnerAlive, ownStartTime, parseOwner, type LockOwner } from "./lock-owner.ts";

const LOCK_FILE = "queue.lock";
/** How long a second gateway waits for the holder to go before it refuses (QUEUE_LOCK_WAIT_SECONDS). */
export const DEFAULT_LOCK_WAIT_MS = 10_000;
const RETRY_MS = 100;
/** Directories this process has open (or is waiting for); the checks below cannot tell our own opens apart. */
const openHere = new Set<string>();

export interface DirectoryLockOptions {
  /** How long to wait for a live holder to let go before refusing; 0 refuses at once. */
  waitMs?: number;
  /** Called once when the directory is found held and the wait begins, to say so in the log. */
  onWaiting?: (owner: string) => void;
}

/**
 * Keeps two queues from appending to one directory: two writers would interleave records and
 * corrupt the log.
 *
 * Two parts, because a gateway restarted right after a SIGKILL must always start (issue 10):
 *
 * - On Linux, a listening Unix socket in the abstract namespace, named after a hash of the
 *   directory's realpath. The kernel releases it when its process dies: a zombie (killed, not yet
 *   reaped by its parent) has already closed its descriptors, so its socket is gone. Binding is
 *   atomic, so two gateways started at once cannot both win, and it leaves no file behind. The
 *   name is padded with NULs to the full sun_path: Node (libuv) binds the whole buffer and Deno
 *   the exact length, and only a full-length name is the same address on both runtimes.
 * - A pid file beside the queue, holding the owner's pid and process start time. It names the
 *   holder in the refusal, and it is the lock where abstract sockets do not exist (macOS). A pid
 *   counts as the owner only while /proc shows it running (not a zombie) with the recorded start
 *   time, so a dead owner whose pid was reused (pid 1 in every container) is not mistaken for it.
 *
 * A lock held by a live process is waited for, up to `waitMs`, then refused with a StartupError.
 * The wait also covers a process killed a moment ago: its descriptors close only once its last
 * thread has exited, a few ms after it shows as a zombie. And since the socket goes with the same
 * descriptor table as the predecessor's listening ports, holding the lock means those are free.
 * Advisory, and scoped to one host's pid and network namespace: containers that share a volume
 * must not share a queue directory.
 */
export class DirectoryLock {
  private released = false;

  private constructor(
    private readonly path: string,
    private readonly key: string,
    private readonly socket: Server | undefined,
  ) {}

  static async acquire(dir: string, options: DirectoryLockOptions = {}): Promise<DirectoryLock> {
    const key = await realpath(dir);
    if (openHere.has(key)) throw new Error(`Queue directory ${dir} is already open in this process`);
    openHere.add(key);
    try {
      const waitMs = options.waitMs ?? DEFAULT_LOCK_WAIT_MS;
      const deadline = Date.now() + waitMs;
      const path = join(dir, LOCK_FILE);
      let waiting = false;
      for (;;) {
        const attempt = await tryAcquire(path, key);
        if (attempt.acquired) return new DirectoryLock(path, key, attempt.socket);
        if (!waiting && waitMs > 0) options.onWaiting?.(describeOwner(attempt.owner));
        waiting = true;
        if (Date.now() >= deadline) {
          throw new StartupError(
            "queue_locked",
            `Queue directory ${dir} is in use by ${describeOwner(attempt.owner)} (waited ${waitMs / 1000} s): stop that gateway, or give this one its own DATA_DIR`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    } catch (error) {
      openHere.delete(key);
      throw error;
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // The pid file first: once the socket is closed another gateway may already be writing its own.
    await unlink(this.path).catch(() => {});
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
    openHere.delete(this.key);
  }
}

type Attempt = { acquired: true; socket: Server | undefined } | { acquired: false; owner: LockOwner | undefined };

async function tryAcquire(path: string, key: string): Promise<Attempt> {
  const socket = await bindAbstractSocket(key);
  if (socket === "held") return { acquired: false, owner: await readOwner(path) };
  const giveUp = async (owner: LockOwner | undefined): Promise<Attempt> => {
    await new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
    return { acquired: false, owner };
  };
  try {
    const owner = await readOwner(path);
    // With the socket ours, only a recorded pid and start time that still match a running process
    // count (a holder that somehow has no socket); a bare pid from an older file is not proof
    // enough to refuse. Our own pid is never the owner: it is a previous process's (containers
    // reuse pid 1), and openHere covers this one.
    const honoured = owner !== undefined && (socket === undefined || owner.startTime !== undefined);
    if (owner && honoured && owner.pid !== process.pid && isOwnerAlive(owner)) return await giveUp(owner);
    if (owner) await unlink(path).catch(() => {});
    const fh = await open(path, "wx").catch(async (error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return undefined; // another starter won the race for the file
      throw error;
    });
    if (!fh) return await giveUp(await readOwner(path));
    try {
      const start = ownStartTime();
      await fh.writeFile(start === undefined ? `${process.pid}\n` : `${process.pid} ${start}\n`);
    } finally {
      await fh.close();
    }
    return { acquired: true, socket };
  } catch (error) {
    await giveUp(undefined);
    throw error;
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  return parseOwner(await readFile(path, "utf8").catch(() => ""));
}

/**
 * Binds the directory's abstract socket: the Server when we hold it now, "held" when a live
 * process does (EADDRINUSE), undefined where there are no abstract sockets (not Linux).
 */
async function bindAbstractSocket(key: string): Promise<Server | "held" | undefined> {
  if (process.platform !== "linux") return undefined;
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 40);
  const name = `\0chargebridge-queue-${hash}`.padEnd(108, "\0");
  const server = createServer((connection) => connection.destroy());
  return await new Promise<Server | "held" | undefined>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve("held");
      else if (error.code === "EINVAL" || error.code === "ENOTSUP" || error.code === "EAFNOSUPPORT") resolve(undefined);
      else reject(error);
    });
    server.listen({ path: name }, () => {
      // Holding the lock must not keep a process alive that has nothing else to do.
      server.unref();
      resolve(server);
    });
  });
}
