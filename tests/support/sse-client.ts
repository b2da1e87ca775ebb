import { waitFor } from "./wait.ts";

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/**
 * A tiny Server-Sent Events reader for tests (WHATWG HTML §9.2 field parsing: id, event, data,
 * comments), over any Response body: `app.request()` in-process or `fetch()` over a real socket.
 */
export class SseReader {
  readonly events: SseEvent[] = [];
  comments = 0;
  ended = false;
  private readonly abort = new AbortController();
  private rd: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(private readonly body: ReadableStream<Uint8Array>) {
    void this.pump();
  }

  static async open(url: string, init: { headers?: Record<string, string> } = {}): Promise<{ status: number; reader?: SseReader; body?: any; res: Response }> {
    const ac = new AbortController();
    const res = await fetch(url, { headers: init.headers, signal: ac.signal });
    if (res.status !== 200) return { status: res.status, body: await res.json().catch(() => null), res };
    const reader = new SseReader(res.body!);
    reader.abort.signal.addEventListener("abort", () => ac.abort());
    return { status: 200, reader, res };
  }

  private async pump(): Promise<void> {
    const reader = (this.rd = this.body.getReader());
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let at: number;
        while ((at = buffer.indexOf("\n\n")) >= 0) {
          this.parse(buffer.slice(0, at));
          buffer = buffer.slice(at + 2);
        }
      }
    } catch {
      // aborted
    } finally {
      this.ended = true;
    }
  }

  private parse(block: string): void {
    const e: { id?: string; event: string; data: string[] } = { event: "message", data: [] };
    let fields = 0;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        this.comments++;
        continue;
      }
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (name === "id") e.id = value;
      else if (name === "event") e.event = value;
      else if (name === "data") e.data.push(value);
      else continue;
      fields++;
    }
    if (fields === 0 || e.data.length === 0) return;
    this.events.push({ ...(e.id !== undefined ? { id: e.id } : {}), event: e.event, data: JSON.parse(e.data.join("\n")) });
  }

  of(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  async next(match: (e: SseEvent) => boolean, what = "stream event", timeoutMs = 10_000): Promise<SseEvent> {
    return waitFor(() => this.events.find(match), { what, timeoutMs });
  }

  /** The last id received, as an EventSource would send it in Last-Event-ID. */
  lastId(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.id !== undefined) return this.events[i]!.id;
    return undefined;
  }

  close(): void {
    this.abort.abort();
    void this.rd?.cancel().catch(() => {});
  }
}
