import { z } from "zod";

/** Wire contract v1: a charge point id is 1-64 of [A-Za-z0-9_-]; it is also the MQTT clientId and username. */
export const CP_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const cpIdSchema = z
  .string()
  .regex(CP_ID_PATTERN, "must be 1-64 characters of A-Z, a-z, 0-9, _ or -");

/** Message, command and reservation ids travel inside topics' payloads and into SQL parameters, so they get a pattern too. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export const messageIdSchema = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((v) => String(v))
  .pipe(z.string().regex(ID_PATTERN, "must be 1-128 characters of A-Z, a-z, 0-9, _ . : or -"));

export const entityIdSchema = z
  .string()
  .regex(ID_PATTERN, "must be 1-128 characters of A-Z, a-z, 0-9, _ . : or -");

/**
 * ISO-8601 with an explicit offset, as the contract's `ts` requires, for an instant in years
 * 0001-9999 UTC: "0000-01-01T00:00:00Z" is valid ISO-8601 but PostgreSQL has no year 0, and a
 * value it cannot store would fail its event on every redelivery instead of being dead-lettered.
 */
export const isoTimestampSchema = z.iso.datetime({ offset: true }).refine((v) => {
  const year = new Date(v).getUTCFullYear();
  return year >= 1 && year <= 9999;
}, "must be an instant in the years 0001-9999 UTC");

const NUL = /\u0000/;
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether free text can reach the database unchanged: PostgreSQL text cannot hold NUL, and an
 * unpaired surrogate (legal in JSON's \u escapes) cannot be stored verbatim. Such input is
 * refused at the edge rather than failing, or being altered, in a query.
 */
export function isStorableText(s: string): boolean {
  return !NUL.test(s) && !UNPAIRED_SURROGATE.test(s);
}

export const STORABLE_TEXT = "must be text without NUL characters or unpaired surrogates";

/** Free text up to `max` characters (names, vendor, fault messages). */
export function textSchema(max: number) {
  return z.string().max(max).refine(isStorableText, STORABLE_TEXT);
}

export type CpId = z.infer<typeof cpIdSchema>;

/** Random, URL-safe id with a readable prefix (web-standard crypto, so it runs on Node and Deno). */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}
