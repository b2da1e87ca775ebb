import type { Logger } from "../platform/logger.ts";
import { throttledWarning } from "../platform/throttled-log.ts";
import type { GatewayHealth } from "../protocol/index.ts";

export interface HealthHttpOptions {
  /** CENTRAL_URL, e.g. https://central.example:8080 (a path prefix behind a proxy is kept). */
  centralUrl: string;
  /** GATEWAY_TOKEN, bound to this gateway's id (docs/security.md). */
  token: string;
  gatewayId: string;
  /** A POST still unanswered after this long is abandoned (the health interval: the next record replaces it). */
  timeoutMs: number;
  log: Logger;
  onOutcome?: (outcome: "sent" | "failed" | "skipped") => void;
  /** For tests only; the runtime's fetch otherwise (Node and Deno alike). */
  fetch?: typeof fetch;
}

export type HealthPoster = { post(record: GatewayHealth, signal: AbortSignal): void; stop(): Promise<void> };

/**
 * The health record's side channel: `POST {CENTRAL_URL}/v1/gateways/{gatewayId}/health`
 * (docs/protocol.md). Fire and forget: one POST at most in flight, each bounded by `timeoutMs`,
 * a failure is counted and logged at most once a minute, never retried; nothing waits for it.
 */
export function createHealthPoster(o: HealthHttpOptions): HealthPoster {
  const url = `${o.centralUrl.replace(/\/+$/, "")}/v1/gateways/${encodeURIComponent(o.gatewayId)}/health`;
  const doFetch = o.fetch ?? fetch;
  const warn = throttledWarning(o.log, "Gateway health POST to Central failed", 60_000);
  let inFlight: Promise<void> | undefined;
  return {
    post(record, signal) {
      if (inFlight) return void o.onOutcome?.("skipped");
      inFlight = (async () => {
        try {
          const res = await doFetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${o.token}` },
            body: JSON.stringify(record),
            signal: AbortSignal.any([signal, AbortSignal.timeout(o.timeoutMs)]),
          });
          // Read the body either way so the connection can be reused; a 4xx/5xx is a failure to log.
          const text = await res.text();
          if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
          o.onOutcome?.("sent");
        } catch (error) {
          o.onOutcome?.("failed");
          warn.note({ url, err: error instanceof Error ? error.message : String(error) });
        }
      })().finally(() => (inFlight = undefined));
    },
    async stop() {
      await inFlight;
    },
  };
}
