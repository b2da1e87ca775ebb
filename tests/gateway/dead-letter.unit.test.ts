import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEAD_LETTER_MAX_BYTES, encodeDeadLetter, escapedPrefix } from "../../protocol/dead-letter-encoding.ts";
import { deadLetterSchema } from "../../protocol/index.ts";

const bytesOf = (s: string) => new TextEncoder().encode(s).byteLength;
/** Any UTF-16 code units, lone surrogates included: what a reason or a refused record may hold. */
const anyText = (maxLength: number) => fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength }).map((u) => String.fromCharCode(...u));
const cpId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const at = new Date(0).toISOString();

describe("bounded dead letters", () => {
  it("any input bytes, reason and type: the encoded dead letter is within the bound, valid, and keeps a true prefix", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20_000 }), anyText(600), cpId, fc.stringMatching(/^[a-z_]{1,64}$/), (raw, reason, cp, type) => {
        const encoded = encodeDeadLetter({ source: "gateway", reason, topic: `chargebridge/v1/${cp}/up/${type}`, cpId: cp, raw, at });
        expect(bytesOf(encoded)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
        const letter = JSON.parse(encoded);
        expect(deadLetterSchema.safeParse(letter).success).toBe(true);
        const full = new TextDecoder().decode(raw);
        expect(full.startsWith(letter.raw)).toBe(true);
        expect(letter.truncated).toBe(letter.raw !== full);
        expect(letter.rawBytes).toBe(raw.byteLength);
      }),
      { numRuns: 300 },
    );
  });

  it("any refused record text (the forwarder's 'bus refused' letters) stays within the bound too", () => {
    fc.assert(
      fc.property(anyText(30_000), cpId, (raw, cp) => {
        const encoded = encodeDeadLetter({ source: "gateway", reason: "bus refused: bus_record_too_large", topic: "chargebridge.cp.events", cpId: cp, raw, at });
        expect(bytesOf(encoded)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
        expect(raw.startsWith(JSON.parse(encoded).raw)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("counts escapes, not characters: 4 KiB of control characters is cut, plain text fills the budget", () => {
    const control = encodeDeadLetter({ source: "gateway", reason: "payload is not valid JSON", topic: "t", cpId: "cp-1", raw: new Uint8Array(4096).fill(1), at });
    expect(bytesOf(control)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    expect(JSON.parse(control)).toMatchObject({ truncated: true, rawBytes: 4096 });
    // 6 bytes per escaped character: about a sixth of the budget's characters
    expect(JSON.parse(control).raw.length).toBeLessThan(DEAD_LETTER_MAX_BYTES / 6);

    const plain = encodeDeadLetter({ source: "gateway", reason: "r", topic: "t", cpId: "cp-1", raw: new Uint8Array(10_000).fill(0x61), at });
    expect(bytesOf(plain)).toBeGreaterThan(DEAD_LETTER_MAX_BYTES - 8);

    const small = JSON.parse(encodeDeadLetter({ source: "gateway", reason: "r", topic: "t", cpId: "cp-1", raw: new TextEncoder().encode("{nope"), at }));
    expect(small).toMatchObject({ raw: "{nope", truncated: false, rawBytes: 5 });
  });

  it("escapedPrefix never splits a surrogate pair and matches JSON.stringify's size", () => {
    fc.assert(
      fc.property(anyText(200), fc.integer({ min: 0, max: 1200 }), (s, budget) => {
        const { text, cut } = escapedPrefix(s, budget);
        expect(bytesOf(JSON.stringify(text)) - 2).toBeLessThanOrEqual(budget);
        expect(s.startsWith(text)).toBe(true);
        expect(cut).toBe(text !== s);
        if (cut) expect(bytesOf(JSON.stringify(s.slice(0, text.length + [...s.slice(text.length)][0]!.length))) - 2).toBeGreaterThan(budget);
      }),
    );
  });
});
