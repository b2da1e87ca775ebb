import { JsonlLog } from "../storage/jsonl-log.ts";

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
  private log!: JsonlLog<Entry>;

  private constructor() {}

  /** `onSync` hears of every fsync and how many entries it made durable (metrics, benchmarks). */
  static async open(file?: string, options: { onSync?: (entries: number) => void } = {}): Promise<CommandStore> {
    const store = new CommandStore();
    // Group commit (storage/jsonl-log.ts): a burst of commands (a site-wide reset, a reconnect
    // wave) costs a few fsyncs instead of one each; each write resolves once its line is on disk.
    store.log = await JsonlLog.open<Entry>(file, (e) => store.replay(e), () => store.snapshot(), options.onSync);
    return store;
  }

  private snapshot(): Entry[] {
    return [
      ...[...this.chargers].map((cpId): Entry => ({ op: "charger", cpId })),
      ...[...this.pending.values()].map((cmd): Entry => ({ op: "add", cmd })),
    ];
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
    await this.log.append({ op: "charger", cpId });
  }

  async add(cmd: PendingCommand): Promise<void> {
    if (this.pending.has(cmd.payload.id)) return;
    this.pending.set(cmd.payload.id, cmd);
    await this.log.append({ op: "add", cmd });
  }

  /** Delivered (PUBACK), answered or expired: forget it. Returns whether it was pending. */
  async done(id: string): Promise<PendingCommand | undefined> {
    const cmd = this.pending.get(id);
    if (!cmd) return undefined;
    this.pending.delete(id);
    await this.log.append({ op: "done", id });
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

  close(): Promise<void> {
    return this.log.close();
  }
}
