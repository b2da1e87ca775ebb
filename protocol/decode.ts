import type { z } from "zod";
import { downstreamSchemas, isDownstreamType, type DownstreamMessage } from "./downstream.ts";
import { isUpstreamType, upstreamSchemas, type UpstreamMessage } from "./upstream.ts";

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Names the first failing field the way API errors do: `payload.meterStartWh: expected number`. */
export function describeZodError(error: z.ZodError, root = ""): string {
  const issue = error.issues[0];
  if (!issue) return "invalid input";
  const path = [root, ...issue.path.map(String)].filter(Boolean).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** UTF-8 (strict) then JSON; each failure gets its own reason. */
function parseJson(raw: string | Uint8Array): Decoded<unknown> {
  let text: string;
  try {
    text = typeof raw === "string" ? raw : new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return { ok: false, reason: "payload is not valid UTF-8" };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: "payload is not valid JSON" };
  }
}

export function decodeUpstream(type: string, raw: string | Uint8Array): Decoded<UpstreamMessage> {
  if (!isUpstreamType(type)) return { ok: false, reason: `unknown upstream type '${type}'` };
  const json = parseJson(raw);
  return json.ok ? validateUpstream(type, json.value) : json;
}

export function validateUpstream(type: string, value: unknown): Decoded<UpstreamMessage> {
  if (!isUpstreamType(type)) return { ok: false, reason: `unknown upstream type '${type}'` };
  const result = upstreamSchemas[type].safeParse(value);
  if (!result.success) return { ok: false, reason: describeZodError(result.error, "payload") };
  return { ok: true, value: { type, payload: result.data } as UpstreamMessage };
}

export function decodeDownstream(type: string, raw: string | Uint8Array): Decoded<DownstreamMessage> {
  if (!isDownstreamType(type)) return { ok: false, reason: `unknown command type '${type}'` };
  const json = parseJson(raw);
  if (!json.ok) return json;
  const result = downstreamSchemas[type].safeParse(json.value);
  if (!result.success) return { ok: false, reason: describeZodError(result.error, "payload") };
  return { ok: true, value: { type, payload: result.data } as DownstreamMessage };
}
