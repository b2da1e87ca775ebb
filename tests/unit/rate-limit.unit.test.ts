import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PacketSizeTracker } from "../../gateway/broker/packet-size-guard.ts";
import { ManualClock } from "../../platform/clock.ts";
import { RateLimiter } from "../../platform/rate-limit.ts";

describe("RateLimiter (token bucket)", () => {
  it("admits a burst of perMinute, then refuses with the time until the next token", () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ perMinute: 3, clock });
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")].every((v) => v.ok)).toBe(true);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterMs: 20_000 });
    clock.advance(5_000);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterMs: 15_000 });
    clock.advance(15_000);
    expect(limiter.take("a").ok).toBe(true);
    expect(limiter.take("a").ok).toBe(false);
  });

  it("keeps keys apart", () => {
    const limiter = new RateLimiter({ perMinute: 1, clock: new ManualClock() });
    expect(limiter.take("a").ok).toBe(true);
    expect(limiter.take("a").ok).toBe(false);
    expect(limiter.take("b").ok).toBe(true);
  });

  it("peeks without taking, and refunds a token for an attempt that did not count", () => {
    const limiter = new RateLimiter({ perMinute: 1, clock: new ManualClock() });
    expect(limiter.peek("a").ok).toBe(true);
    expect(limiter.take("a").ok).toBe(true);
    expect(limiter.peek("a").ok).toBe(false);
    limiter.refund("a");
    expect(limiter.take("a").ok).toBe(true);
  });

  it("admits everything when perMinute is 0", () => {
    const limiter = new RateLimiter({ perMinute: 0, clock: new ManualClock() });
    for (let i = 0; i < 1000; i++) expect(limiter.take("a").ok).toBe(true);
    expect(limiter.enabled).toBe(false);
    expect(limiter.size).toBe(0);
  });

  it("neither mints nor burns tokens when the clock steps backwards", () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ perMinute: 1, clock });
    expect(limiter.take("a").ok).toBe(true);
    clock.advance(-3_600_000);
    expect(limiter.take("a").ok).toBe(false);
    clock.advance(60_000);
    expect(limiter.take("a").ok).toBe(true);
  });

  it("stays within maxKeys under a flood of distinct keys", () => {
    const limiter = new RateLimiter({ perMinute: 1, clock: new ManualClock(), maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });

  it("never admits more than burst + elapsed × rate (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 300 }), (perMinute, gaps) => {
        const clock = new ManualClock(0);
        const limiter = new RateLimiter({ perMinute, clock });
        let admitted = 0;
        for (const gap of gaps) {
          clock.advance(gap);
          if (limiter.take("k").ok) admitted++;
        }
        return admitted <= perMinute + Math.floor((clock.now() * perMinute) / 60_000) + 1e-9;
      }),
    );
  });
});

/** An MQTT fixed header: type byte plus the variable-length Remaining Length (§2.2.3). */
function header(type: number, length: number): number[] {
  const bytes = [type];
  do {
    let b = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) b |= 0x80;
    bytes.push(b);
  } while (length > 0);
  return bytes;
}

const packet = (length: number) => Uint8Array.from([...header(0x30, length), ...new Array<number>(length).fill(0x61)]);

describe("PacketSizeTracker", () => {
  it("lets packets within the limit through, however the stream is split", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (lengths, cuts) => {
        const stream = Uint8Array.from(lengths.flatMap((n) => [...packet(n)]));
        const tracker = new PacketSizeTracker(303);
        let at = 0;
        let i = 0;
        while (at < stream.length) {
          const size = cuts[i++ % cuts.length]!;
          if (tracker.feed(stream.subarray(at, at + size)) !== undefined) return false;
          at += size;
        }
        return true;
      }),
    );
  });

  it("reports the first packet over the limit as soon as its header is complete", () => {
    const tracker = new PacketSizeTracker(1024);
    expect(tracker.feed(packet(100))).toBeUndefined();
    expect(tracker.feed(Uint8Array.from([0x30, 0x80]))).toBeUndefined(); // header not complete yet
    expect(tracker.feed(Uint8Array.from([0x40]))).toBe(3 + 64 * 128);
  });

  it("reports a 256 MiB declaration and a malformed 5-byte length", () => {
    expect(new PacketSizeTracker(1 << 20).feed(Uint8Array.from(header(0x10, 268_435_455)))).toBe(5 + 268_435_455);
    expect(new PacketSizeTracker(1 << 20).feed(Uint8Array.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(Infinity);
  });
});
