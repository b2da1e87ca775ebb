/**
 * The power an EV draws over a session, in the shape chargers actually see on their meter:
 * a soft-start ramp (contactors close, the EV negotiates its current limit), a constant-current
 * plateau at the charger's or car's limit, and a taper once the battery is nearly full (the
 * constant-voltage phase), until the car stops drawing at its target state of charge.
 * Pure functions: no timers, so the curve can be unit-tested and reused by the simulator.
 */

export interface EvProfile {
  /** Usable battery capacity. */
  batteryWh: number;
  /** State of charge when the car is plugged in, 0..1. */
  initialSoc: number;
  /** The car stops drawing (the session ends `ev_full`) at this state of charge, 0..1. */
  targetSoc: number;
  /** Plateau power: the lower of the charger's and the car's limit. */
  maxPowerW: number;
  /** Soft-start duration from 0 to the plateau. */
  rampMs: number;
  /** State of charge where the taper begins. */
  taperFromSoc: number;
  /** The taper never drops below this share of the plateau, so a session does end. */
  minPowerFraction: number;
}

export const DEFAULT_EV: EvProfile = {
  batteryWh: 60_000,
  initialSoc: 0.2,
  targetSoc: 1,
  maxPowerW: 11_000,
  rampMs: 5_000,
  taperFromSoc: 0.8,
  minPowerFraction: 0.05,
};

/** Validates a profile once, so a typo in a scenario fails loudly instead of charging forever. */
export function evProfile(partial: Partial<EvProfile> = {}): EvProfile {
  const p = { ...DEFAULT_EV, ...partial };
  const bad = (what: string) => {
    throw new Error(`Invalid EV profile: ${what}`);
  };
  if (!(p.batteryWh > 0)) bad("batteryWh must be > 0");
  if (!(p.initialSoc >= 0 && p.initialSoc <= 1)) bad("initialSoc must be within 0..1");
  if (!(p.targetSoc > 0 && p.targetSoc <= 1)) bad("targetSoc must be within (0, 1]");
  if (!(p.maxPowerW > 0)) bad("maxPowerW must be > 0");
  if (!(p.rampMs >= 0)) bad("rampMs must be >= 0");
  if (!(p.taperFromSoc > 0 && p.taperFromSoc < 1)) bad("taperFromSoc must be within (0, 1)");
  if (!(p.minPowerFraction > 0 && p.minPowerFraction <= 1)) bad("minPowerFraction must be within (0, 1]");
  return p;
}

/** Instantaneous power at a state of charge, `sinceStartMs` into the session. */
export function powerAtW(p: EvProfile, soc: number, sinceStartMs: number): number {
  if (soc >= p.targetSoc) return 0;
  const ramp = p.rampMs > 0 ? Math.min(1, Math.max(0, sinceStartMs) / p.rampMs) : 1;
  // Linear taper in SoC approximates the exponential current decay of the CV phase.
  const taper = soc <= p.taperFromSoc ? 1 : Math.max(p.minPowerFraction, (1 - soc) / (1 - p.taperFromSoc));
  return p.maxPowerW * Math.min(ramp, taper);
}

/** Integration step: short enough that the ramp and taper are followed closely. */
const STEP_MS = 250;

/**
 * One car's battery during one session. `advance` integrates the curve over elapsed time and
 * returns the energy delivered, so the meter register is exact however irregular the ticks.
 */
export class EvBattery {
  soc: number;
  private elapsedMs = 0;

  constructor(readonly profile: EvProfile) {
    this.soc = Math.min(profile.initialSoc, profile.targetSoc);
  }

  get full(): boolean {
    return this.soc >= this.profile.targetSoc - 1e-9;
  }

  /** Power at this moment, what a meter value reports. */
  get powerW(): number {
    return powerAtW(this.profile, this.soc, this.elapsedMs);
  }

  /** Advances the session by `ms`; returns Wh delivered. Never overshoots the target. */
  advance(ms: number): number {
    let left = Math.max(0, ms);
    let wh = 0;
    while (left > 0 && !this.full) {
      const dt = Math.min(STEP_MS, left);
      const p = powerAtW(this.profile, this.soc, this.elapsedMs + dt / 2);
      const room = (this.profile.targetSoc - this.soc) * this.profile.batteryWh;
      const step = Math.min(room, (p * dt) / 3_600_000);
      wh += step;
      this.soc = step === room ? this.profile.targetSoc : this.soc + step / this.profile.batteryWh;
      this.elapsedMs += dt;
      left -= dt;
    }
    this.elapsedMs += left; // time passes even when full
    return wh;
  }

  /** How long until the car is full, looking at most `horizonMs` ahead; null if not within it. */
  msUntilFull(horizonMs: number): number | null {
    if (this.full) return 0;
    const probe = new EvBattery(this.profile);
    probe.soc = this.soc;
    probe.elapsedMs = this.elapsedMs;
    for (let t = 0; t < horizonMs; t += STEP_MS) {
      probe.advance(STEP_MS);
      if (probe.full) return t + STEP_MS;
    }
    return null;
  }
}
