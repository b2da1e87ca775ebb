import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChargePointFirmware, type FirmwareOptions } from "../../firmware-sim/firmware.ts";
import type { DownstreamMessage } from "../../protocol/index.ts";

interface Sent {
  type: string;
  fields: Record<string, unknown>;
  at: number;
}

/** The firmware with its transport replaced by a list, on fake time: every timer is explicit. */
function charger(options: Partial<FirmwareOptions> = {}) {
  const sent: Sent[] = [];
  const fw = new ChargePointFirmware({ cpId: "cp-1", meterMs: 1_000, ...options }, (type, fields, onAcked) => {
    sent.push({ type, fields: fields as Record<string, unknown>, at: Date.now() });
    onAcked?.();
    return `m-${sent.length}`;
  });
  const statuses = () => sent.filter((s) => s.type === "status").map((s) => s.fields.status);
  return { fw, sent, statuses };
}

let n = 0;
const cmd = <T extends DownstreamMessage["type"]>(type: T, fields: Record<string, string>) =>
  ({ type, payload: { id: `cmd-${++n}`, ts: new Date().toISOString(), ...fields } }) as DownstreamMessage;
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

describe("firmware-sim charger: its own reservation expiry", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2026-06-01T12:00:00Z"));
  });
  afterEach(() => vi.useRealTimers());

  it("goes back to available by itself when expiresAt passes without a start, and says so", () => {
    const { fw, statuses, sent } = charger();
    fw.handle(cmd("reserve", { reservationId: "r1", expiresAt: inMs(5_000) }));
    expect(fw.status).toBe("reserved");
    expect(sent.find((s) => s.type === "command_result")?.fields).toMatchObject({ accepted: true });

    vi.advanceTimersByTime(4_999);
    expect(fw.status).toBe("reserved");
    vi.advanceTimersByTime(1);
    expect(fw.status).toBe("available");
    expect(fw.reservation).toBeNull();
    expect(fw.localExpiries).toBe(1);
    expect(statuses()).toEqual(["reserved", "available"]);
  });

  it("judges expiry by its own clock: a charger running 2 s fast lets go 2 s early", () => {
    const { fw } = charger({ clockSkewMs: 2_000 });
    fw.handle(cmd("reserve", { reservationId: "r1", expiresAt: inMs(5_000) }));
    vi.advanceTimersByTime(3_000);
    expect(fw.status).toBe("available");
  });

  it("refuses a start after its own expiry, and accepts Central's late cancel of it", () => {
    const { fw, sent } = charger();
    fw.handle(cmd("reserve", { reservationId: "r1", expiresAt: inMs(1_000) }));
    vi.advanceTimersByTime(1_000);
    fw.handle(cmd("start", { reservationId: "r1" }));
    fw.handle(cmd("cancel_reservation", { reservationId: "r1" }));
    fw.handle(cmd("cancel_reservation", { reservationId: "never-seen" }));
    const results = sent.filter((s) => s.type === "command_result").map((s) => s.fields);
    expect(results.slice(1)).toEqual([
      expect.objectContaining({ accepted: false, reason: "reservation expired on the charger" }),
      expect.objectContaining({ accepted: true }),
      expect.objectContaining({ accepted: false, reason: "unknown reservation" }),
    ]);
    expect(fw.status).toBe("available");
  });

  it("a start in time releases the hold: the expiry no longer fires during the session", () => {
    const { fw, statuses } = charger();
    fw.handle(cmd("reserve", { reservationId: "r1", expiresAt: inMs(2_000) }));
    vi.advanceTimersByTime(500);
    fw.handle(cmd("start", { reservationId: "r1" }));
    vi.advanceTimersByTime(5_000);
    expect(fw.status).toBe("charging");
    expect(statuses()).toEqual(["reserved", "charging"]);
    expect(fw.localExpiries).toBe(0);
  });

  it("refuses a reservation whose expiry is already past by its clock", () => {
    const { fw, sent } = charger({ clockSkewMs: 10_000 });
    fw.handle(cmd("reserve", { reservationId: "r1", expiresAt: inMs(5_000) }));
    expect(fw.status).toBe("available");
    expect(sent.at(-1)?.fields).toMatchObject({ accepted: false });
  });

  it("answers a command delivered twice only once, and records that its answer was acknowledged", () => {
    const { fw, sent } = charger();
    const reserve = cmd("reserve", { reservationId: "r1", expiresAt: inMs(5_000) });
    fw.handle(reserve);
    fw.handle(reserve);
    expect(sent.filter((s) => s.type === "command_result")).toHaveLength(1);
    expect(fw.commands.get(reserve.payload.id)).toMatchObject({ accepted: true, acked: true });
  });
});

describe("firmware-sim charger: sessions on the power curve", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2026-06-01T12:00:00Z"));
  });
  afterEach(() => vi.useRealTimers());

  it("meters a ramp and ends the session itself with ev_full when the car is full", () => {
    const ev = { batteryWh: 20, initialSoc: 0.5, targetSoc: 0.9, rampMs: 2_000, taperFromSoc: 0.8 };
    const { fw, sent } = charger({ ev, powerW: 7_200 });
    fw.beginSession("r1");
    const start = sent.find((s) => s.type === "charging_started")!.fields.meterStartWh as number;
    vi.advanceTimersByTime(60_000);
    const meters = sent.filter((s) => s.type === "meter").map((s) => s.fields);
    expect(meters.length).toBeGreaterThan(2);
    expect(meters[0]!.powerW).toBeLessThan(meters[1]!.powerW as number); // still ramping
    expect(Math.max(...meters.map((m) => m.powerW as number))).toBeLessThanOrEqual(7_200);
    const stop = sent.find((s) => s.type === "charging_stopped")!;
    expect(stop.fields.reason).toBe("ev_full");
    // 40 % of 20 Wh went in: the register moved by 8 Wh (rounded on the wire)
    expect(Math.abs((stop.fields.meterStopWh as number) - start - 8)).toBeLessThanOrEqual(1);
    expect(fw.status).toBe("available");
    expect(fw.sessions[0]).toMatchObject({ reservationId: "r1", reason: "ev_full" });
  });

  it("keeps charging when told not to stop at full, reporting zero power", () => {
    const { fw, sent } = charger({ ev: { batteryWh: 5, initialSoc: 0.9, rampMs: 0 }, stopWhenFull: false });
    fw.beginSession("r1");
    vi.advanceTimersByTime(30_000);
    expect(fw.status).toBe("charging");
    expect(sent.filter((s) => s.type === "meter").at(-1)?.fields.powerW).toBe(0);
  });

  it("a fault during a session ends it with reason fault before reporting faulted", () => {
    const { fw, sent } = charger();
    fw.beginSession("r1");
    vi.advanceTimersByTime(3_000);
    fw.fault("E1", "ground fault");
    expect(sent.slice(-3).map((s) => s.type)).toEqual(["charging_stopped", "fault", "status"]);
    expect(sent.at(-3)?.fields.reason).toBe("fault");
    expect(fw.status).toBe("faulted");
    fw.clearFault();
    expect(fw.status).toBe("available");
  });
});
