import type { Client } from "aedes";
import { CP_ID_PATTERN } from "../../protocol/index.ts";
import type { CredentialCache } from "../credentials/credential-cache.ts";

/** aedes' AuthErrorCode.BAD_USERNAME_OR_PASSWORD: CONNACK return code 4 (MQTT 3.1.1 §3.2.2.3). */
const BAD_USERNAME_OR_PASSWORD = 4;
const IDENTIFIER_REJECTED = 2;

type AuthError = Error & { returnCode: number };
type Done = (error: AuthError | null, success: boolean | null) => void;

function refuse(message: string, returnCode: number): AuthError {
  return Object.assign(new Error(message), { returnCode });
}

export interface AuthenticateDeps {
  credentials: CredentialCache;
  onRefused(cpId: string, reason: string): void;
}

/**
 * A charger connects with clientId = username = cpId and its provisioned secret as password.
 * Checking the secret before the session is set up is what makes a takeover by the same
 * clientId (MQTT-3.1.4-2) possible only with the right secret.
 */
export function createAuthenticate(deps: AuthenticateDeps) {
  return (client: Client, username: string | undefined, password: Buffer | undefined, done: Done): void => {
    const cpId = client.id;
    if (!CP_ID_PATTERN.test(cpId)) {
      deps.onRefused(cpId, "bad_client_id");
      return done(refuse("Client id is not a valid cpId", IDENTIFIER_REJECTED), false);
    }
    if (username !== cpId || !password) {
      deps.onRefused(cpId, "username_mismatch");
      return done(refuse("Username must equal the client id", BAD_USERNAME_OR_PASSWORD), false);
    }
    deps.credentials.verify(cpId, password.toString("utf8")).then(
      (ok) => {
        if (ok) return done(null, true);
        deps.onRefused(cpId, "bad_credentials");
        done(refuse("Bad username or password", BAD_USERNAME_OR_PASSWORD), false);
      },
      (error: unknown) => {
        deps.onRefused(cpId, "auth_error");
        done(refuse(`Authentication failed: ${String(error)}`, BAD_USERNAME_OR_PASSWORD), false);
      },
    );
  };
}
