import { systemClock, type Clock } from "./clock.ts";

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiterOptions {
  /** Sustained rate per key. 0 (or less) turns the limiter off: everything is admitted. */
  perMinute: number;
  /** Bucket size, i.e. how many may come at once after a quiet spell. Defaults to `perMinute`. */
  burst?: number;
  clock?: Clock;
  /** Keys kept at most; bounds the memory an attacker can make us spend on buckets. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const ADMIT: Admission = { ok: true };

/**
 * Token buckets by key (a source address, a cpId, a driverId), shared by the gateway and Central
 * and free of runtime APIs, so it runs on Node and Deno. A bucket starts full, refills
 * continuously at `perMinute`, and each admission takes one token.
 *
 * Memory stays bounded: past `maxKeys`, buckets that have refilled completely are dropped (they
 * are indistinguishable from a new one), then the oldest. Dropping a non-full bucket forgives
 * that key early; that is the price of never growing without bound.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly perMs: number;
  private readonly clock: Clock;
  private readonly maxKeys: number;

  constructor(options: RateLimiterOptions) {
    this.perMs = Math.max(0, options.perMinute) / 60_000;
    this.capacity = Math.max(1, options.burst ?? options.perMinute);
    this.clock = options.clock ?? systemClock;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  get enabled(): boolean {
    return this.perMs > 0;
  }

  /** Admits one unit for `key` and takes a token, or says how long until one is available. */
  take(key: string): Admission {
    const verdict = this.peek(key);
    if (verdict.ok && this.enabled) this.bucket(key).tokens -= 1;
    return verdict;
  }

  /** Whether `key` would be admitted now, without taking anything (for counting only failures). */
  peek(key: string): Admission {
    if (!this.enabled) return ADMIT;
    const b = this.buckets.get(key);
    if (!b) return ADMIT;
    this.refill(b);
    if (b.tokens >= 1) return ADMIT;
    return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / this.perMs) };
  }

  /** Gives back a token taken for an attempt that turned out not to count (it succeeded). */
  refund(key: string): void {
    const b = this.buckets.get(key);
    if (!b) return;
    this.refill(b);
    b.tokens = Math.min(this.capacity, b.tokens + 1);
  }

  /** Keys currently tracked; for tests and diagnostics. */
  get size(): number {
    return this.buckets.size;
  }

  private refill(b: Bucket): void {
    const now = this.clock.now();
    // A clock that moves backwards (NTP step) must not mint or burn tokens.
    const elapsed = Math.max(0, now - b.at);
    b.tokens = Math.min(this.capacity, b.tokens + elapsed * this.perMs);
    b.at = now;
  }

  private bucket(key: string): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.evict();
      b = { tokens: this.capacity, at: this.clock.now() };
      this.buckets.set(key, b);
    }
    return b;
  }

  private evict(): void {
    for (const [key, b] of this.buckets) {
      this.refill(b);
      if (b.tokens >= this.capacity) this.buckets.delete(key);
    }
    // Still full of throttled keys: forget the oldest tenth (Map keeps insertion order), so a
    // flood of new keys does not pay for a full sweep on every insertion.
    const target = Math.floor(this.maxKeys * 0.9);
    while (this.buckets.size > target) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
    }
  }
}
