import { mkdir, open, readFile, rename, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * An fsynced append-only JSON-lines file holding one owner's durable state: replayed at open,
 * then rewritten compactly (write, fsync, rename) from the owner's snapshot. Without a file it is
 * memory-only. Appends are group-committed: entries that arrive while an fsync is in flight go
 * out together in the next one, each resolving only once its own line is on disk, in order.
 */
export class JsonlLog<E> {
  private queued: { line: string; resolve(): void; reject(error: unknown): void }[] = [];
  private flushing: Promise<void> | undefined;

  private constructor(
    private handle: FileHandle | undefined,
    private readonly onSync?: (entries: number) => void,
  ) {}

  /** `onSync` hears of every fsync and how many entries it made durable (metrics, benchmarks). */
  static async open<E>(
    file: string | undefined,
    replay: (entry: E) => void,
    snapshot: () => E[],
    onSync?: (entries: number) => void,
  ): Promise<JsonlLog<E>> {
    if (!file) return new JsonlLog<E>(undefined);
    await mkdir(dirname(file), { recursive: true });
    let text = "";
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") throw error;
    }
    for (const line of text.split("\n")) {
      if (!line) continue;
      let entry: E;
      try {
        entry = JSON.parse(line) as E;
      } catch {
        break; // a torn last line from a crash mid-append: everything before it is intact
      }
      replay(entry);
    }
    const tmp = `${file}.tmp`;
    const out = await open(tmp, "w");
    const lines = snapshot().map((e) => JSON.stringify(e));
    await out.writeFile(lines.length ? `${lines.join("\n")}\n` : "");
    await out.sync();
    await out.close();
    await rename(tmp, file);
    return new JsonlLog<E>(await open(file, "a"), onSync);
  }

  append(entry: E): Promise<void> {
    if (!this.handle) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ line: `${JSON.stringify(entry)}\n`, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async flush(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0);
      try {
        if (!this.handle) throw new Error("Log is closed");
        await this.handle.appendFile(batch.map((b) => b.line).join(""));
        await this.handle.sync();
        this.onSync?.(batch.length);
        for (const b of batch) b.resolve();
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.flushing = undefined;
  }
}
