import { open, readFile, realpath, unlink } from "node:fs/promises";
import { join } from "node:path";

const LOCK_FILE = "queue.lock";
/** Directories this process has open; the pid check below cannot tell our own opens apart. */
const openHere = new Set<string>();

/**
 * Keeps two queues from appending to one directory: two writers would interleave records and
 * corrupt the log. A file holding the owner's pid; a lock whose process is gone (kill -9, power
 * loss) is stale and taken over. Advisory and best-effort across pid namespaces: containers that
 * share a volume must not share a queue directory.
 */
export class DirectoryLock {
  private released = false;

  private constructor(
    private readonly path: string,
    private readonly key: string,
  ) {}

  static async acquire(dir: string): Promise<DirectoryLock> {
    const key = await realpath(dir);
    if (openHere.has(key)) throw new Error(`Queue directory ${dir} is already open in this process`);
    const path = join(dir, LOCK_FILE);
    for (let attempt = 0; ; attempt++) {
      try {
        const fh = await open(path, "wx");
        try {
          await fh.writeFile(String(process.pid));
        } finally {
          await fh.close();
        }
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
        const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
        if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
          throw new Error(`Queue directory ${dir} is in use by process ${owner}`);
        }
        await unlink(path).catch(() => {});
      }
    }
    openHere.add(key);
    return new DirectoryLock(path, key);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    openHere.delete(this.key);
    await unlink(this.path).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
