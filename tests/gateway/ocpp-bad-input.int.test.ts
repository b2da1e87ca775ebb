import type { RPCClient } from "ocpp-rpc";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOcppHarness, metric, type OcppHarness } from "../support/ocpp-harness.ts";
import { waitFor } from "../support/wait.ts";

/** Raw frames the gateway sends back to this box (CALLRESULTs and CALLERRORs), parsed. */
function inbox(box: RPCClient) {
  const got: any[] = [];
  box.on("message", ({ message, outbound }: { message: Buffer | string; outbound: boolean }) => {
    if (outbound) return;
    try {
      got.push(JSON.parse(String(message)));
    } catch {
      got.push(String(message));
    }
  });
  return got;
}

describe("OCPP 1.6J bad input: CALLERROR with the 1.6 code, connection kept", () => {
  let h: OcppHarness;
  beforeEach(async () => {
    h = await createOcppHarness({ DEAD_LETTERS_PER_MINUTE: "20" });
  });
  afterEach(async () => h?.close());

  it("answers each kind of bad frame with its code and serves the next valid call", async () => {
    const box = await h.connect("bad-1", await h.addCharger("bad-1"));
    const got = inbox(box);
    const cases: [string, string, string][] = [
      ["not JSON", "{oops", "FormationViolation"],
      ["not an array", JSON.stringify({ a: 1 }), "FormationViolation"],
      ["unknown message type", JSON.stringify([7, "m0", "Heartbeat", {}]), "FormationViolation"],
      ["wrong type", JSON.stringify([2, "m1", "StatusNotification", { connectorId: "one", errorCode: "NoError", status: "Available" }]), "TypeConstraintViolation"],
      ["extra property", JSON.stringify([2, "m2", "Heartbeat", { extra: true }]), "PropertyConstraintViolation"],
      ["bad enum", JSON.stringify([2, "m3", "StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Sleeping" }]), "PropertyConstraintViolation"],
      ["missing required", JSON.stringify([2, "m4", "BootNotification", { chargePointModel: "X" }]), "OccurrenceConstraintViolation"],
      ["too long", JSON.stringify([2, "m5", "BootNotification", { chargePointVendor: "V".repeat(21), chargePointModel: "X" }]), "FormationViolation"],
      ["unknown action", JSON.stringify([2, "m6", "TeleportCar", {}]), "NotImplemented"],
      ["known but not served", JSON.stringify([2, "m7", "DataTransfer", { vendorId: "acme" }]), "NotImplemented"],
    ];
    for (const [what, frame, code] of cases) {
      const before = got.length;
      box.sendRaw(frame);
      const answer = await waitFor(() => got[before], { what });
      expect([what, answer[0], answer[2]]).toEqual([what, 4, code]);
    }
    // same connection, next valid call served
    expect(await box.call("Heartbeat", {})).toHaveProperty("currentTime");
    expect(await metric(h, "chargebridge_gateway_ocpp_callerrors_total", 'code="NotImplemented"')).toBe(2);
    expect(await metric(h, "chargebridge_gateway_ocpp_callerrors_total", 'code="FormationViolation"')).toBe(4);
  });

  it("a flood of bad frames from one box does not hold up another; its dead letters stay within budget", async () => {
    const flooder = await h.connect("bad-2", await h.addCharger("bad-2"));
    const good = await h.connect("good-2", await h.addCharger("good-2"));
    const answers = inbox(flooder);
    const frames = 3_000;
    for (let i = 0; i < frames; i += 1) flooder.sendRaw(i % 2 ? "garbage" : JSON.stringify([2, `f${i}`, "Heartbeat", { x: i }]));
    // while the flood is being answered, the other box is served as usual
    for (let i = 0; i < 5; i += 1) await good.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Available", timestamp: new Date(Date.UTC(2026, 1, 1, 0, 0, i)).toISOString() });
    await waitFor(() => h.up("good-2", "status").length === 5, { what: "the good box's statuses" });
    await waitFor(() => answers.length >= frames, { timeoutMs: 30_000, what: "every bad frame answered" });
    // the flooder itself is still served
    expect(await flooder.call("Heartbeat", {})).toHaveProperty("currentTime");
    const limited = await metric(h, "chargebridge_gateway_dead_letters_rate_limited_total");
    const dead = h.deadLetters.filter((r) => JSON.parse(r.value).cpId === "bad-2").length;
    console.log(`flood: ${frames} bad frames answered; ${dead} dead-lettered, ${limited} only counted (DEAD_LETTERS_PER_MINUTE=20)`);
    expect(dead).toBeLessThanOrEqual(20);
    expect(limited).toBeGreaterThanOrEqual(frames - 20);
  });
});

describe("OCPP frame size limit", () => {
  let h: OcppHarness;
  afterEach(async () => h?.close());

  it("a WebSocket message over MQTT_MAX_PACKET_BYTES closes that connection (1009); others are unaffected", async () => {
    h = await createOcppHarness({ MQTT_MAX_PACKET_BYTES: "4096" });
    const big = await h.connect("big-1", await h.addCharger("big-1"));
    const other = await h.connect("small-1", await h.addCharger("small-1"));
    const closed = new Promise<{ code: number }>((resolve) => big.once("close", resolve));
    big.sendRaw(JSON.stringify([2, "m1", "DataTransfer", { vendorId: "acme", data: "x".repeat(10_000) }]));
    expect((await closed).code).toBe(1009);
    expect(await other.call("Heartbeat", {})).toHaveProperty("currentTime");
  });
});
