import { describe, expect, it } from "vitest";
import { decodeDownstream, decodeUpstream, downFilter, parseTopic, upTopic } from "../../protocol/index.ts";

describe("topics", () => {
  it("round-trips up and down topics", () => {
    expect(parseTopic(upTopic("cp-1", "meter"))).toEqual({ cpId: "cp-1", direction: "up", type: "meter" });
    expect(downFilter("cp_2")).toBe("chargebridge/v1/cp_2/down/#");
  });

  it.each([
    "chargebridge/v1/+/up/meter",
    "chargebridge/v1/#",
    "chargebridge/v1/cp-1/up/meter/extra",
    "chargebridge/v2/cp-1/up/meter",
    "chargebridge/v1/cp 1/up/meter",
    "chargebridge/v1/cp-1/sideways/meter",
    `chargebridge/v1/${"x".repeat(65)}/up/meter`,
  ])("rejects %s", (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });
});

describe("upstream decoding", () => {
  const ts = "2026-06-01T12:00:00.000Z";

  it("accepts each contract message and normalises numeric ids to strings", () => {
    const r = decodeUpstream("charging_started", JSON.stringify({ id: 7, ts, reservationId: "res_1", meterStartWh: 10 }));
    expect(r).toEqual({ ok: true, value: { type: "charging_started", payload: { id: "7", ts, reservationId: "res_1", meterStartWh: 10 } } });
    expect(decodeUpstream("command_result", JSON.stringify({ id: "a", ts, commandId: "c1", accepted: false, reason: "busy" })).ok).toBe(true);
  });

  it.each([
    ["status", "{", "payload is not valid JSON"],
    ["status", JSON.stringify({ id: "a", ts, status: "sleeping" }), "payload.status"],
    ["meter", JSON.stringify({ id: "a", ts, reservationId: "r", energyWh: -1, powerW: 0 }), "payload.energyWh"],
    ["heartbeat", JSON.stringify({ id: "a", ts: "yesterday" }), "payload.ts"],
    ["heartbeat", JSON.stringify({ id: "a/b", ts }), "payload.id"],
    ["boot", JSON.stringify({ id: "a", ts }), "payload.vendor"],
    ["teleport", JSON.stringify({ id: "a", ts }), "unknown upstream type"],
  ])("refuses %s %s naming the problem", (type, raw, expected) => {
    const r = decodeUpstream(type, raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(expected);
  });

  it("refuses invalid UTF-8", () => {
    const r = decodeUpstream("heartbeat", new Uint8Array([0xff, 0xfe, 0x7b]));
    expect(r).toEqual({ ok: false, reason: "payload is not valid UTF-8" });
  });
});

describe("downstream decoding", () => {
  it("accepts a reserve command and refuses one without expiresAt", () => {
    const ts = new Date().toISOString();
    expect(decodeDownstream("reserve", JSON.stringify({ id: "c", ts, reservationId: "r", expiresAt: ts })).ok).toBe(true);
    expect(decodeDownstream("reserve", JSON.stringify({ id: "c", ts, reservationId: "r" })).ok).toBe(false);
  });
});
