import { mkdir, open, readFile, rename, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

export interface PendingCommand {
  cpId: string;
  type: string;
  payload: { id: string } & Record<string, unknown>;
  /** Milliseconds since the epoch after which the command is reported expired. */
  expiresAt: number;
}

type Entry = { op: "add"; cmd: PendingCommand } | { op: "done"; id: string } | { op: "charger"; cpId: string };

/**
 * Commands waiting for their charger, and the chargers whose sessions this gateway holds, kept in
 * an fsynced append-only file so that both survive a gateway restart. The gateway's Kafka offset
 * is committed only after `add` resolves, so a command is always either in Kafka or on disk.
 * The file is rewritten compactly at open.
 */
export class CommandStore {
  private readonly pending = new Map<string, PendingCommand>();
  private readonly chargers = new Set<string>();
  /** Entries waiting for the next append; each resolves once its line is synced. */
  private queued: { line: string; resolve(): void; reject(error: unknown): void }[] = [];
  private flushing: Promise<void> | undefined;

  private constructor(
    private readonly file: string | undefined,
    private handle: FileHandle | undefined,
    private readonly onSync?: (entries: number) => void,
  ) {}

  /** `onSync` hears of every fsync and how many entries it made durable (metrics, benchmarks). */
  static async open(file?: string, options: { onSync?: (entries: number) => void } = {}): Promise<CommandStore> {
    if (!file) return new CommandStore(undefined, undefined);
    await mkdir(dirname(file), { recursive: true });
    const store = new CommandStore(file, undefined, options.onSync);
    let text = "";
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") throw error;
    }
    for (const line of text.split("\n")) {
      if (!line) continue;
      let entry: Entry;
      try {
        entry = JSON.parse(line) as Entry;
      } catch {
        break; // a torn last line from a crash mid-append: everything before it is intact
      }
      store.replay(entry);
    }
    // Compact: write the live state to a new file and swap it in atomically.
    const tmp = `${file}.tmp`;
    const out = await open(tmp, "w");
    const lines = [
      ...[...store.chargers].map((cpId) => JSON.stringify({ op: "charger", cpId })),
      ...[...store.pending.values()].map((cmd) => JSON.stringify({ op: "add", cmd })),
    ];
    await out.writeFile(lines.length ? `${lines.join("\n")}\n` : "");
    await out.sync();
    await out.close();
    await rename(tmp, file);
    store.handle = await open(file, "a");
    return store;
  }

  private replay(entry: Entry): void {
    if (entry.op === "add") this.pending.set(entry.cmd.payload.id, entry.cmd);
    else if (entry.op === "done") this.pending.delete(entry.id);
    else if (entry.op === "charger") this.chargers.add(entry.cpId);
  }

  holds(cpId: string): boolean {
    return this.chargers.has(cpId);
  }

  async addCharger(cpId: string): Promise<void> {
    if (this.chargers.has(cpId)) return;
    this.chargers.add(cpId);
    await this.write({ op: "charger", cpId });
  }

  async add(cmd: PendingCommand): Promise<void> {
    if (this.pending.has(cmd.payload.id)) return;
    this.pending.set(cmd.payload.id, cmd);
    await this.write({ op: "add", cmd });
  }

  /** Delivered (PUBACK), answered or expired: forget it. Returns whether it was pending. */
  async done(id: string): Promise<PendingCommand | undefined> {
    const cmd = this.pending.get(id);
    if (!cmd) return undefined;
    this.pending.delete(id);
    await this.write({ op: "done", id });
    return cmd;
  }

  forCharger(cpId: string): PendingCommand[] {
    return [...this.pending.values()].filter((c) => c.cpId === cpId);
  }

  expired(now: number): PendingCommand[] {
    return [...this.pending.values()].filter((c) => c.expiresAt <= now);
  }

  get size(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }

  /**
   * Group commit, as in the durable queue: entries that arrive while an append and its fsync are
   * in flight go out together in the next one, so a burst of commands (a site-wide reset, a
   * reconnect wave) costs a few fsyncs instead of one each. Each write still resolves only once
   * its own line is on disk, and lines keep their order.
   */
  private write(entry: Entry): Promise<void> {
    if (!this.handle) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ line: `${JSON.stringify(entry)}\n`, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0);
      try {
        if (!this.handle) throw new Error("Command store is closed");
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
