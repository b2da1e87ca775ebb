import type { Client } from "aedes";
import type { RateLimiter } from "../../platform/rate-limit.ts";
import { CP_ID_PATTERN } from "../../protocol/index.ts";
import type { CredentialCache } from "../credentials/credential-cache.ts";

/** CONNACK return codes, MQTT 3.1.1 §3.2.2.3 (aedes passes `returnCode` 2-5 through). */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;

type AuthError = Error & { returnCode: number };
type Done = (error: AuthError | null, success: boolean | null) => void;

function refuse(message: string, returnCode: number): AuthError {
  return Object.assign(new Error(message), { returnCode });
}

export type RefusalReason =
  | "bad_client_id"
  | "username_mismatch"
  | "bad_credentials"
  | "auth_error"
  | "rate_limited_address"
  | "rate_limited_cp";

export interface AuthenticateDeps {
  credentials: CredentialCache;
  /** Connection attempts per source address (every attempt counts). */
  perAddress?: RateLimiter;
  /** Failed secret checks per cpId. */
  failures?: RateLimiter;
  onRefused(cpId: string, reason: RefusalReason, address?: string): void;
}

/**
 * A charger connects with clientId = username = cpId and its provisioned secret as password.
 * aedes runs this before it registers the client, and only registering replaces an existing
 * session with the same clientId (MQTT-3.1.4-2): so a takeover needs the right secret, and a
 * wrong one leaves the live connection alone.
 *
 * Rate limits are applied here rather than in aedes' `preConnect`: a refusal from `preConnect`
 * closes the socket without a CONNACK, whereas here the charger gets return code 3 (server
 * unavailable), which tells well-behaved firmware to back off rather than suspect its secret.
 * - per source address: every attempt takes a token;
 * - per cpId: only attempts that need the slow PBKDF2 check take one (given back on success),
 *   so guessing and hash-flooding stop, while a charger whose secret this gateway already
 *   verified still gets in through the cheap remembered check, even while its cpId is throttled.
 */
export function createAuthenticate(deps: AuthenticateDeps) {
  return (client: Client, username: string | undefined, password: Buffer | undefined, done: Done): void => {
    const cpId = client.id;
    const address = (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress ?? "unknown";
    if (deps.perAddress && !deps.perAddress.take(address).ok) {
      deps.onRefused(cpId, "rate_limited_address", address);
      return done(refuse("Too many connection attempts from this address", SERVER_UNAVAILABLE), false);
    }
    if (!CP_ID_PATTERN.test(cpId)) {
      deps.onRefused(cpId, "bad_client_id", address);
      return done(refuse("Client id is not a valid cpId", IDENTIFIER_REJECTED), false);
    }
    if (username !== cpId || !password) {
      deps.onRefused(cpId, "username_mismatch", address);
      return done(refuse("Username must equal the client id", BAD_USERNAME_OR_PASSWORD), false);
    }
    const secret = password.toString("utf8");
    const failed = (reason: RefusalReason, message: string) => {
      deps.onRefused(cpId, reason, address);
      done(refuse(message, BAD_USERNAME_OR_PASSWORD), false);
    };
    check(deps, cpId, secret).then(
      (verdict) => {
        if (verdict === "ok") return done(null, true);
        if (verdict === "throttled") {
          deps.onRefused(cpId, "rate_limited_cp", address);
          return done(refuse("Too many failed attempts for this client id; try later", SERVER_UNAVAILABLE), false);
        }
        failed("bad_credentials", "Bad username or password");
      },
      (error: unknown) => failed("auth_error", `Authentication failed: ${String(error)}`),
    );
  };
}

async function check(deps: AuthenticateDeps, cpId: string, secret: string): Promise<"ok" | "bad" | "throttled"> {
  const failures = deps.failures;
  if (!failures?.enabled) return (await deps.credentials.verify(cpId, secret)) ? "ok" : "bad";
  if (await deps.credentials.isRemembered(cpId, secret)) return "ok";
  // Taken before the slow check, so concurrent guesses cannot all slip through one token.
  if (!failures.take(cpId).ok) return "throttled";
  const ok = await deps.credentials.verify(cpId, secret);
  if (ok) failures.refund(cpId);
  return ok ? "ok" : "bad";
}
