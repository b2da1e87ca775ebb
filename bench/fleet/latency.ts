/** Delays of meter values from their `ts` (stamped by the charger) to their arrival at a consumer. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class LatencyRecorder {
  private samples: number[] = [];
  private recording = false;

  /** Starts a fresh window: only values arriving inside it count. */
  begin(): void {
    this.samples = [];
    this.recording = true;
  }

  /** Records one arrival of a value stamped `ts` by the charger. */
  recordTs(ts: unknown, now = Date.now()): void {
    if (!this.recording || typeof ts !== "string") return;
    const at = Date.parse(ts);
    if (Number.isFinite(at)) this.samples.push(now - at);
  }

  /** Records one arrival from the raw meter JSON, as an MQTT subscriber receives it. */
  recordPayload(payload: string | Uint8Array, now = Date.now()): void {
    if (!this.recording) return;
    try {
      this.recordTs((JSON.parse(typeof payload === "string" ? payload : new TextDecoder().decode(payload)) as { ts?: unknown }).ts, now);
    } catch {
      // not a meter value we sent
    }
  }

  end(): LatencySummary {
    this.recording = false;
    return summarise(this.samples);
  }
}

export function summarise(values: number[]): LatencySummary {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => (s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!);
  return { count: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s.length ? s[s.length - 1]! : Number.NaN };
}
