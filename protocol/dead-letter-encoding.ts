import type { DeadLetter } from "./bus-records.ts";

/**
 * Largest dead letter a gateway or Central produces, in UTF-8 bytes of its JSON: what it costs on the bus.
 * In the disk queue it is JSON inside JSON, so at most about twice that (see queue-record.ts).
 * Whatever a charger sends, a dead letter never costs more (docs/protocol.md, "Dead letters").
 */
export const DEAD_LETTER_MAX_BYTES = 2048;
/** Bounds on the fields that are not the raw input; the raw prefix gets what is left. */
const REASON_MAX_BYTES = 256;
const TOPIC_MAX_BYTES = 256;

export interface DeadLetterInput {
  source: DeadLetter["source"];
  reason: string;
  topic: string;
  cpId?: string;
  /** The refused input: bytes from a charger, or the text of a record the bus refused. */
  raw: Uint8Array | string;
  at: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder(); // invalid UTF-8 becomes U+FFFD, as before

/**
 * The dead letter as JSON of at most DEAD_LETTER_MAX_BYTES encoded bytes. The raw input is kept
 * as text (as `raw` always was) and cut where its JSON-escaped form fills the budget: a control
 * character costs 6 bytes escaped (\u0001), so counting characters would overshoot sixfold.
 * `rawBytes` (added field) is the size of the whole input; `truncated` says whether `raw` is cut.
 */
export function encodeDeadLetter(input: DeadLetterInput): string {
  const text = typeof input.raw === "string" ? input.raw : decoder.decode(input.raw);
  const rawBytes = typeof input.raw === "string" ? encoder.encode(input.raw).byteLength : input.raw.byteLength;
  const head = {
    source: input.source,
    reason: escapedPrefix(input.reason, REASON_MAX_BYTES).text,
    topic: escapedPrefix(input.topic, TOPIC_MAX_BYTES).text,
    ...(input.cpId === undefined ? {} : { cpId: escapedPrefix(input.cpId, 64).text }),
  };
  // "truncated":false and "truncated":true differ by one byte; budget for the longer.
  const fixed = jsonBytes({ ...head, raw: "", rawBytes, truncated: false, at: input.at }) + 1;
  const raw = escapedPrefix(text, Math.max(0, DEAD_LETTER_MAX_BYTES - fixed));
  const letter: DeadLetter & { rawBytes: number; truncated: boolean } = { ...head, raw: raw.text, rawBytes, truncated: raw.cut, at: input.at };
  return JSON.stringify(letter);
}

/** The longest prefix of `s` whose JSON string body (without quotes) takes at most `budget` UTF-8 bytes. */
export function escapedPrefix(s: string, budget: number): { text: string; cut: boolean } {
  let used = 0;
  let end = 0;
  // for..of walks code points, so a surrogate pair is never split; a lone surrogate is one step.
  for (const ch of s) {
    const cost = escapedBytes(ch);
    if (used + cost > budget) return { text: s.slice(0, end), cut: true };
    used += cost;
    end += ch.length;
  }
  return { text: s, cut: false };
}

function escapedBytes(ch: string): number {
  const c = ch.codePointAt(0)!;
  if (c === 0x22 || c === 0x5c) return 2; // \" and \\
  if (c < 0x20) return c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdfff) return 6; // lone surrogate: JSON.stringify writes \udxxx
  return c < 0x10000 ? 3 : 4;
}

function jsonBytes(v: unknown): number {
  return encoder.encode(JSON.stringify(v)).byteLength;
}
