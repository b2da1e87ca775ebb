import type { Range } from "./schema.ts";

/**
 * A seeded generator (mulberry32), so one seed replays the same arrivals, no-shows and chaos
 * schedule: a failing run can be repeated. Timing still depends on the system under test.
 */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  uniform([min, max]: Range): number {
    return min + (max - min) * this.next();
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.next() * items.length)];
  }

  /** Waiting time to the next event of a Poisson process with `perMinute` events a minute. */
  nextArrivalMs(perMinute: number): number {
    if (perMinute <= 0) return Number.POSITIVE_INFINITY;
    return (-Math.log(1 - this.next()) * 60_000) / perMinute;
  }
}
