/**
 * A full garbage collection in another Node process, through its inspector (started with
 * `--inspect=127.0.0.1:0`): memory per connection is read after it, so the figure is live memory
 * and not how much garbage the connects left that V8 had not yet collected. The inspector
 * announces its address on stderr ("Debugger listening on ws://…").
 */
import WebSocket from "ws";

export function inspectorUrl(output: string[]): string | undefined {
  for (const chunk of output) {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(chunk);
    if (m) return m[1];
  }
  return undefined;
}

export async function collectGarbage(url: string): Promise<void> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("inspector: no answer to HeapProfiler.collectGarbage within 30 s")), 30_000);
      ws.on("message", (data) => {
        if ((JSON.parse(String(data)) as { id?: number }).id === 1) clearTimeout(timer), resolve();
      });
      ws.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" }));
    });
  } finally {
    ws.close();
  }
}
