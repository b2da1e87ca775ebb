/**
 * Another Node process's inspector (started with `--inspect=127.0.0.1:0`), for two things the
 * bench needs from the gateway without changing it:
 * - a full garbage collection before memory is read, so memory per connection is live memory and
 *   not the garbage the connects left that V8 had not yet collected;
 * - a CPU profile of exactly one measurement window (`--cpu-prof` is refused in NODE_OPTIONS and
 *   would cover the whole process life).
 * The inspector announces its address on stderr ("Debugger listening on ws://…").
 */
import WebSocket from "ws";

export function inspectorUrl(output: string[]): string | undefined {
  for (const chunk of output) {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(chunk);
    if (m) return m[1];
  }
  return undefined;
}

export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.error) p.reject(new Error(`inspector: ${m.error.message}`));
      else p.resolve(m.result);
    });
  }

  static async connect(output: string[]): Promise<Inspector> {
    const url = inspectorUrl(output);
    if (!url) throw new Error("the process's inspector address is not in its stderr");
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new Inspector(ws);
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method} within 60 s`)), 60_000);
      this.pending.set(id, { resolve: (v) => (clearTimeout(timer), resolve(v as T)), reject: (e) => (clearTimeout(timer), reject(e)) });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

export async function collectGarbage(output: string[]): Promise<void> {
  const inspector = await Inspector.connect(output);
  try {
    await inspector.send("HeapProfiler.collectGarbage");
  } finally {
    inspector.close();
  }
}

/** Runs `during` with the process's CPU profiler on; returns its result and the profile. */
export async function profiled<T>(output: string[], during: () => Promise<T>): Promise<{ result: T; profile: unknown }> {
  const inspector = await Inspector.connect(output);
  try {
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.start");
    const result = await during();
    const { profile } = await inspector.send<{ profile: unknown }>("Profiler.stop");
    return { result, profile };
  } finally {
    inspector.close();
  }
}
