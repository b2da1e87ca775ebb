import type { Principal } from "../api/auth.ts";
import type { StreamChange, StreamSubscriber } from "./stream-hub.ts";

/** Who may see a change: charge points go to everyone, a driver sees only their own reservations and sessions. */
export function visibleTo(principal: Principal, change: Pick<StreamChange, "kind" | "driverId">): boolean {
  if (principal.role === "operator") return true;
  if (principal.role !== "driver") return false; // a gateway token never reaches the stream; refuse anyway
  if (change.kind === "charge_point") return true;
  if (change.kind === "gateway") return false;
  return change.driverId === principal.driverId;
}

const encoder = new TextEncoder();

/**
 * One connected stream. Changes are queued until the socket takes them (the ReadableStream is
 * pulled only as fast as the client reads); a client whose queue passes `maxBufferBytes` is
 * disconnected rather than allowed to grow memory without bound. It reconnects with
 * Last-Event-ID and loses nothing.
 *
 * Until `release(position)` the client holds live changes back, so a snapshot or replay read in
 * the meantime goes out first and nothing between them is lost or sent twice.
 */
export class StreamClient implements StreamSubscriber {
  private readonly queue: string[] = [];
  private bytes = 0;
  /** Bytes of snapshot or replay still queued: bounded by their own limits, not counted against the live bound. */
  private initial = 0;
  private held: StreamChange[] | undefined = [];
  private position = 0;
  private wake: (() => void) | undefined;
  private closed = false;
  readonly body: ReadableStream<Uint8Array>;

  constructor(
    private readonly principal: Principal,
    private readonly maxBufferBytes: number,
    private readonly onEnd: (reason: "slow_client" | "client_closed" | "server_stopped") => void,
  ) {
    this.body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (this.queue.length === 0 && !this.closed) await new Promise<void>((r) => (this.wake = r));
          if (this.queue.length === 0) return controller.close();
          // Everything queued goes out as one chunk: one socket write per wake-up, not per event.
          const chunk = this.queue.join("");
          this.queue.length = 0;
          this.bytes = 0;
          this.initial = 0;
          controller.enqueue(encoder.encode(chunk));
        },
        cancel: () => this.end("client_closed"),
      },
      { highWaterMark: 0 },
    );
  }

  /** Sends a frame ahead of everything held (the snapshot, replayed changes). */
  send(frame: string): void {
    this.push(frame, false);
  }

  offer(change: StreamChange): void {
    if (this.closed || !visibleTo(this.principal, change)) return;
    if (this.held) return void this.held.push(change);
    if (change.id !== undefined && change.id <= this.position) return;
    this.push(change.frame);
  }

  comment(text: string): void {
    if (!this.held) this.push(`: ${text}\n\n`);
  }

  /** Ends the hold: changes up to `position` were covered by the snapshot or replay. */
  release(position: number): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.position = position;
    this.initial = this.bytes;
    for (const change of held) this.offer(change);
  }

  private push(frame: string, live = true): void {
    if (this.closed) return;
    this.queue.push(frame);
    this.bytes += frame.length;
    if (!live || this.held) this.initial = this.bytes;
    if (this.bytes - this.initial > this.maxBufferBytes) {
      // What is queued is dropped with the connection; the client resumes from its last id.
      this.queue.length = 0;
      this.bytes = 0;
      this.end("slow_client");
      return;
    }
    this.wakeUp();
  }

  /** Closes the stream (the reader sees its end once the queue is flushed). */
  end(reason: "slow_client" | "client_closed" | "server_stopped"): void {
    if (this.closed) return;
    this.closed = true;
    this.held = undefined;
    this.onEnd(reason);
    this.wakeUp();
  }

  buffered(): number {
    return this.bytes;
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
