import type { Context, MiddlewareHandler } from "hono";
import type { Clock } from "../../platform/clock.ts";
import { AppError } from "../../platform/errors.ts";
import { RateLimiter } from "../../platform/rate-limit.ts";
import type { Principal } from "./auth.ts";

/**
 * The client's address as the runtime saw the TCP connection (platform/serve-http.ts passes the
 * runtime's connection details as Hono's env). Forwarded headers are deliberately not trusted:
 * anyone can send them. Behind a reverse proxy every client therefore shares the proxy's
 * address; rate limit per client at the proxy in that setup (docs/security.md).
 */
export function clientAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } }; remoteAddr?: { hostname?: string } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? env?.remoteAddr?.hostname ?? "unknown";
}

function refuse(retryAfterMs: number, what: string): never {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  throw new AppError("rate_limited", `Too many requests ${what}; retry after ${retryAfterSeconds} s`, { retryAfterSeconds });
}

export interface ApiRateLimits {
  /** Called once a request's token is resolved: drivers are limited per driverId. */
  admit(principal: Principal): void;
  /** For unauthenticated endpoints that create things: limited per client address. */
  perAddress: MiddlewareHandler;
}

/**
 * DRIVER_RATE_PER_MINUTE requests per minute per driver (with a burst of as many), and as many
 * registrations per minute per address. Operators are not limited: their token is the keys to
 * the system anyway. A refusal is 429 `rate_limited` with Retry-After (see on-error.ts).
 */
export function createApiRateLimits(perMinute: number, clock: Clock): ApiRateLimits {
  const drivers = new RateLimiter({ perMinute, clock });
  const addresses = new RateLimiter({ perMinute, clock });
  return {
    admit(principal) {
      if (principal.role !== "driver") return;
      const verdict = drivers.take(principal.driverId);
      if (!verdict.ok) refuse(verdict.retryAfterMs, "for this driver");
    },
    perAddress: async (c, next) => {
      const verdict = addresses.take(clientAddress(c));
      if (!verdict.ok) refuse(verdict.retryAfterMs, "from this address");
      await next();
    },
  };
}
