/** Time is a side effect: decisions read it through this interface so tests can move it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told; for unit tests of time-based rules. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.parse("2026-01-01T00:00:00Z")) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
