import type { BusState } from "../event-bus.ts";
import { describeError } from "./kafka-config.ts";

/**
 * The connection state of one supervised kafkajs object (producer, consumer). The bus folds
 * these into one BusHealth. "connecting" means no attempt has finished yet; a failed attempt or
 * a lost connection is "disconnected"; `reconnects` counts recoveries after a loss.
 */
export class LinkState {
  private current: BusState = "connecting";
  private everConnected = false;
  private count = 0;
  private error?: string;
  private errorAt = 0;
  /** Called after every change of `state`; the bus folds the links' states into its own. */
  onChange?: () => void;

  get state(): BusState {
    return this.current;
  }

  get reconnects(): number {
    return this.count;
  }

  get lastError(): string | undefined {
    return this.error;
  }

  get lastErrorAt(): number {
    return this.errorAt;
  }

  /** Returns true when this call ended an outage, so the caller can log the recovery once. */
  up(): boolean {
    if (this.current === "connected" || this.current === "closed") return false;
    const recovered = this.everConnected && this.current === "disconnected";
    if (recovered) this.count += 1;
    this.everConnected = true;
    this.current = "connected";
    this.onChange?.();
    return recovered;
  }

  /** Returns true when this call started an outage (the first failure after being up). */
  down(error: unknown): boolean {
    this.error = describeError(error);
    this.errorAt = Date.now();
    if (this.current === "closed") return false;
    const lost = this.current !== "disconnected";
    this.current = "disconnected";
    if (lost) this.onChange?.();
    return lost;
  }

  close(): void {
    if (this.current === "closed") return;
    this.current = "closed";
    this.onChange?.();
  }
}

/** One state for several links: any outage shows, and "connected" needs every link up. */
export function combineStates(links: LinkState[]): BusState {
  const states = links.map((l) => l.state).filter((s) => s !== "closed");
  if (states.includes("disconnected")) return "disconnected";
  if (states.includes("connecting")) return "connecting";
  return "connected";
}

/** The most recent error of any link. */
export function latestError(links: LinkState[]): string | undefined {
  return links.filter((l) => l.lastError).sort((a, b) => b.lastErrorAt - a.lastErrorAt)[0]?.lastError;
}

/**
 * Counts recoveries of the bus as a whole: one outage that every link (producer, consumers,
 * probe) went through is one reconnect, not one per link.
 */
export class BusStateTracker {
  private state: BusState = "connecting";
  private lost = false;
  private everConnected = false;
  reconnects = 0;

  update(next: BusState): void {
    if (next === this.state) return;
    if (next === "disconnected" && this.everConnected) this.lost = true;
    if (next === "connected") {
      if (this.lost) this.reconnects += 1;
      this.lost = false;
      this.everConnected = true;
    }
    this.state = next;
  }
}
