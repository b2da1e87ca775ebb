import type { CentralContext } from "../context.ts";
import type { AuthConfig } from "./auth.ts";
import type { StreamApi } from "./routes/stream.ts";

export interface ApiDeps {
  ctx: CentralContext;
  auth: AuthConfig;
  /** Hands a charger's new salted hash to the gateways. */
  publishCredential(cpId: string, hash: string | null): void;
  /** Readiness of Central's dependencies, for /readyz. */
  readiness: { name: string; check(): Promise<boolean> | boolean }[];
  /** Extra state for /healthz; the endpoint is public, so states and counts, no error texts. */
  healthDetails?: () => Record<string, unknown>;
  /** The live stream (central/stream); its routes are mounted when given. */
  stream?: StreamApi;
}
