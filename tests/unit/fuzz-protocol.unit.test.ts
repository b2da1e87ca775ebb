import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeDownstream, decodeUpstream, DOWNSTREAM_TYPES, isStorableText, UPSTREAM_TYPES } from "../../protocol/index.ts";

/** Runs per property: enough to find shallow holes quickly, small enough for the shared CI cores. */
const RUNS = 400;

const upType = fc.oneof(fc.constantFrom(...UPSTREAM_TYPES), fc.string({ maxLength: 20 }), fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty"));
const downType = fc.oneof(fc.constantFrom(...DOWNSTREAM_TYPES), fc.string({ maxLength: 20 }), fc.constantFrom("__proto__", "constructor"));

/** Text that breaks naive storage or parsing: NUL, lone surrogates, quotes, SQL and topic meta-characters. */
const nasty = fc.constantFrom("\u0000", "\ud800", "\udc00x", "'; DROP TABLE drivers; --", "+", "#", "/", "../", "\\", '"', "𝄞", "");
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }), nasty);
const timestamp = fc.oneof(
  // Dates a charger would send: without this branch almost every timestamp lies outside years
  // 1-9999, and the accepting paths were reached in too few runs (a seed could miss them all).
  fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom("0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00", "2026-02-30T00:00:00Z", "2026-06-01T12:00:00", "yesterday"),
  text,
);
const anyValue = fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));

/** Payloads shaped like the contract's, each field valid-looking or hostile. */
const nearValid = fc.record(
  {
    id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/), fc.nat(), fc.integer({ min: -5, max: -1 }), text, fc.double()),
    ts: timestamp,
    status: fc.oneof(fc.constantFrom("available", "reserved", "charging", "faulted", "unavailable"), text),
    reservationId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/), text),
    commandId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/), text),
    meterStartWh: fc.oneof(fc.double(), fc.nat(), anyValue),
    meterStopWh: fc.oneof(fc.double(), fc.nat(), anyValue),
    energyWh: fc.oneof(fc.double(), fc.nat(), anyValue),
    powerW: fc.oneof(fc.double(), fc.nat(), anyValue),
    expiresAt: timestamp,
    vendor: text,
    model: text,
    firmware: text,
    code: text,
    message: text,
    reason: text,
    accepted: fc.oneof(fc.boolean(), anyValue),
  },
  { requiredKeys: [] },
);

const rawPayload = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null"),
  nearValid.map((v) => JSON.stringify(v)),
  fc.nat({ max: 5000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth)),
);

/** Every string inside an accepted payload must be storable as is. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

function checkDecoded(decoded: { ok: true; value: { payload: unknown } } | { ok: false; reason: string }): boolean {
  if (!decoded.ok) return typeof decoded.reason === "string" && decoded.reason.length > 0;
  const years = ["ts", "expiresAt"]
    .map((k) => (decoded.value.payload as Record<string, unknown>)[k])
    .filter((v): v is string => typeof v === "string")
    .map((v) => new Date(v).getUTCFullYear());
  return strings(decoded.value.payload).every(isStorableText) && years.every((y) => y >= 1 && y <= 9999);
}

describe("MQTT payload decoding under fuzzing", () => {
  it("decodeUpstream never throws and always answers ok with storable values, or a reason", () => {
    fc.assert(fc.property(upType, rawPayload, (type, raw) => checkDecoded(decodeUpstream(type, raw))), { numRuns: RUNS });
  });

  it("never accepts a near-valid payload with an unstorable field or timestamp", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.constantFrom(...UPSTREAM_TYPES), nearValid, (type, payload) => {
        const decoded = decodeUpstream(type, new TextEncoder().encode(JSON.stringify(payload)));
        if (decoded.ok) accepted++;
        return checkDecoded(decoded);
      }),
      { numRuns: RUNS },
    );
    expect(accepted).toBeGreaterThan(0); // the generator does reach the accepting paths
  });

  it("decodeDownstream never throws and always answers ok or a reason", () => {
    fc.assert(fc.property(downType, rawPayload, (type, raw) => checkDecoded(decodeDownstream(type, raw))), { numRuns: RUNS });
  });

  it("names the hostile cases it refuses", () => {
    const ts = new Date().toISOString();
    expect(decodeUpstream("boot", JSON.stringify({ id: "b", ts, vendor: "a\u0000", model: "m", firmware: "f" }))).toMatchObject({ ok: false, reason: expect.stringMatching(/^payload\.vendor: .*NUL/) });
    expect(decodeUpstream("fault", JSON.stringify({ id: "f", ts, code: "\ud800", message: "m" }))).toMatchObject({ ok: false, reason: expect.stringMatching(/^payload\.code/) });
    expect(decodeUpstream("heartbeat", JSON.stringify({ id: "h", ts: "0000-01-01T00:00:00Z" }))).toMatchObject({ ok: false, reason: expect.stringMatching(/^payload\.ts/) });
    expect(decodeUpstream("heartbeat", new Uint8Array([0x7b, 0xff, 0x7d]))).toEqual({ ok: false, reason: "payload is not valid UTF-8" });
    expect(decodeUpstream("__proto__", "{}")).toMatchObject({ ok: false, reason: expect.stringContaining("unknown upstream type") });
  });
});
