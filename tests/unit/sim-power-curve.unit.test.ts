import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EvBattery, evProfile, powerAtW } from "../../firmware-sim/power-curve.ts";

const profile = evProfile({ batteryWh: 10_000, initialSoc: 0.5, targetSoc: 1, maxPowerW: 11_000, rampMs: 4_000, taperFromSoc: 0.8, minPowerFraction: 0.05 });

describe("firmware-sim power curve", () => {
  it("ramps up linearly, holds the plateau, then tapers as the battery fills", () => {
    expect(powerAtW(profile, 0.5, 0)).toBe(0);
    expect(powerAtW(profile, 0.5, 1_000)).toBeCloseTo(2_750);
    expect(powerAtW(profile, 0.5, 2_000)).toBeCloseTo(5_500);
    expect(powerAtW(profile, 0.5, 4_000)).toBe(11_000);
    expect(powerAtW(profile, 0.79, 600_000)).toBe(11_000); // constant current below the taper
    expect(powerAtW(profile, 0.9, 600_000)).toBeCloseTo(5_500); // half way through the taper
    expect(powerAtW(profile, 0.999, 600_000)).toBeCloseTo(550); // floor: 5 % of the plateau
    expect(powerAtW(profile, 1, 600_000)).toBe(0); // full: the car stops drawing
  });

  it("delivers exactly the energy that fills the battery to its target, never more", () => {
    const b = new EvBattery(evProfile({ ...profile, targetSoc: 0.9 }));
    let wh = 0;
    for (let i = 0; i < 10_000 && !b.full; i++) wh += b.advance(1_000);
    expect(b.full).toBe(true);
    expect(b.soc).toBe(0.9);
    expect(wh).toBeCloseTo(0.4 * 10_000, 6);
    expect(b.advance(60_000)).toBe(0);
    expect(b.powerW).toBe(0);
  });

  it("predicts when the car will be full, consistent with advancing to that moment", () => {
    const b = new EvBattery(evProfile({ ...profile, batteryWh: 100, initialSoc: 0.7 }));
    const ms = b.msUntilFull(3_600_000)!;
    expect(ms).toBeGreaterThan(0);
    b.advance(ms - 250);
    expect(b.full).toBe(false);
    b.advance(250);
    expect(b.full).toBe(true);
    expect(new EvBattery(evProfile({ ...profile, batteryWh: 1_000_000 })).msUntilFull(10_000)).toBeNull();
  });

  it("for any car and any tick pattern: SoC only rises, power never exceeds the plateau, energy matches SoC", () => {
    fc.assert(
      fc.property(
        fc.record({
          batteryWh: fc.double({ min: 10, max: 100_000, noNaN: true }),
          initialSoc: fc.double({ min: 0, max: 1, noNaN: true }),
          targetSoc: fc.double({ min: 0.05, max: 1, noNaN: true }),
          maxPowerW: fc.double({ min: 1_000, max: 350_000, noNaN: true }),
          rampMs: fc.integer({ min: 0, max: 30_000 }),
          taperFromSoc: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        }),
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 40 }),
        (p, ticks) => {
          const b = new EvBattery(evProfile({ ...p, minPowerFraction: 0.05 }));
          const start = b.soc;
          let wh = 0;
          let last = b.soc;
          for (const t of ticks) {
            expect(b.powerW).toBeLessThanOrEqual(p.maxPowerW + 1e-6);
            wh += b.advance(t);
            expect(b.soc).toBeGreaterThanOrEqual(last);
            expect(b.soc).toBeLessThanOrEqual(p.targetSoc + 1e-12);
            last = b.soc;
          }
          expect(wh).toBeGreaterThanOrEqual(0);
          expect(wh).toBeCloseTo((b.soc - start) * p.batteryWh, 3);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses a profile that could never end or makes no sense, naming the field", () => {
    expect(() => evProfile({ batteryWh: 0 })).toThrow(/batteryWh/);
    expect(() => evProfile({ initialSoc: 1.5 })).toThrow(/initialSoc/);
    expect(() => evProfile({ minPowerFraction: 0 })).toThrow(/minPowerFraction/);
  });
});
