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

/** ISO-8601 with an explicit offset, as the contract's `ts` requires. */
export const isoTimestampSchema = z.iso.datetime({ offset: true });

export type CpId = z.infer<typeof cpIdSchema>;

/** Random, URL-safe id with a readable prefix (web-standard crypto, so it runs on Node and Deno). */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}
