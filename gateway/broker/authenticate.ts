import type { Client } from "aedes";
import type { RateLimiter } from "../../platform/rate-limit.ts";
import { checkCharger, type RefusalReason } from "../credentials/check-charger.ts";
import type { CredentialCache } from "../credentials/credential-cache.ts";

export type { RefusalReason } from "../credentials/check-charger.ts";

/** CONNACK return codes, MQTT 3.1.1 §3.2.2.3 (aedes passes `returnCode` 2-5 through). */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;

type AuthError = Error & { returnCode: number };
type Done = (error: AuthError | null, success: boolean | null) => void;

const REFUSALS: Record<RefusalReason, [string, number]> = {
  rate_limited_address: ["Too many connection attempts from this address", SERVER_UNAVAILABLE],
  bad_client_id: ["Client id is not a valid cpId", IDENTIFIER_REJECTED],
  username_mismatch: ["Username must equal the client id", BAD_USERNAME_OR_PASSWORD],
  rate_limited_cp: ["Too many failed attempts for this client id; try later", SERVER_UNAVAILABLE],
  bad_credentials: ["Bad username or password", BAD_USERNAME_OR_PASSWORD],
  auth_error: ["Authentication failed", BAD_USERNAME_OR_PASSWORD],
};

export interface AuthenticateDeps {
  credentials: CredentialCache;
  /** Connection attempts per source address (every attempt counts). */
  perAddress?: RateLimiter;
  /** Failed secret checks per cpId. */
  failures?: RateLimiter;
  onRefused(cpId: string, reason: RefusalReason, address?: string): void;
}

/**
 * The MQTT adapter over the shared admission check (credentials/check-charger.ts): a charger
 * connects with clientId = username = cpId and its provisioned secret as password.
 * aedes runs this before it registers the client, and only registering replaces an existing
 * session with the same clientId (MQTT-3.1.4-2): so a takeover needs the right secret, and a
 * wrong one leaves the live connection alone.
 *
 * Rate limits are applied here rather than in aedes' `preConnect`: a refusal from `preConnect`
 * closes the socket without a CONNACK, whereas here the charger gets return code 3 (server
 * unavailable), which tells well-behaved firmware to back off rather than suspect its secret.
 */
export function createAuthenticate(deps: AuthenticateDeps) {
  return (client: Client, username: string | undefined, password: Buffer | undefined, done: Done): void => {
    const cpId = client.id;
    const address = (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress ?? "unknown";
    void checkCharger(deps, { cpId, username, password: password?.toString("utf8"), address }).then((verdict) => {
      if (verdict.ok) return done(null, true);
      deps.onRefused(cpId, verdict.reason, address);
      const [message, returnCode] = REFUSALS[verdict.reason];
      done(Object.assign(new Error(message), { returnCode }), false);
    });
  };
}
