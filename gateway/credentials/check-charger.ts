import type { RateLimiter } from "../../platform/rate-limit.ts";
import { CP_ID_PATTERN } from "../../protocol/index.ts";
import type { CredentialCache } from "./credential-cache.ts";

export type RefusalReason =
  | "bad_client_id"
  | "username_mismatch"
  | "bad_credentials"
  | "auth_error"
  | "rate_limited_address"
  | "rate_limited_cp";

export interface CheckChargerDeps {
  credentials: CredentialCache;
  /** Connection attempts per source address (every attempt counts). */
  perAddress?: RateLimiter;
  /** Failed secret checks per cpId. */
  failures?: RateLimiter;
}

export type CheckVerdict = { ok: true } | { ok: false; reason: RefusalReason };

/**
 * The one admission check for a charger, whatever its transport (MQTT CONNECT, OCPP's HTTP Basic
 * on the WebSocket upgrade): identity = username = cpId, password = the provisioned secret.
 * - per source address: every attempt takes a token;
 * - per cpId: only attempts that need the slow PBKDF2 check take one (given back on success),
 *   so guessing and hash-flooding stop, while a charger whose secret this gateway already
 *   verified still gets in through the cheap remembered check, even while its cpId is throttled.
 */
export async function checkCharger(
  deps: CheckChargerDeps,
  attempt: { cpId: string; username: string | undefined; password: string | undefined; address: string },
): Promise<CheckVerdict> {
  const { cpId, username, password, address } = attempt;
  if (deps.perAddress && !deps.perAddress.take(address).ok) return { ok: false, reason: "rate_limited_address" };
  if (!CP_ID_PATTERN.test(cpId)) return { ok: false, reason: "bad_client_id" };
  if (username !== cpId || !password) return { ok: false, reason: "username_mismatch" };
  try {
    const verdict = await verify(deps, cpId, password);
    if (verdict === "ok") return { ok: true };
    return { ok: false, reason: verdict === "throttled" ? "rate_limited_cp" : "bad_credentials" };
  } catch {
    return { ok: false, reason: "auth_error" };
  }
}

async function verify(deps: CheckChargerDeps, cpId: string, secret: string): Promise<"ok" | "bad" | "throttled"> {
  const failures = deps.failures;
  if (!failures?.enabled) return (await deps.credentials.verify(cpId, secret)) ? "ok" : "bad";
  if (await deps.credentials.isRemembered(cpId, secret)) return "ok";
  // Taken before the slow check, so concurrent guesses cannot all slip through one token.
  if (!failures.take(cpId).ok) return "throttled";
  const ok = await deps.credentials.verify(cpId, secret);
  if (ok) failures.refund(cpId);
  return ok ? "ok" : "bad";
}
