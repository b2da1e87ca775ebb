import { delay } from "../../platform/backoff.ts";

/**
 * The harness talks to Central only through the public REST API (docs/protocol.md), so the same
 * code drives a simulated site and a real one. Every call has a deadline: a hung request must
 * not hang the run, it must show up as an error in the report.
 */
export interface RestResponse<T = unknown> {
  status: number;
  body: T;
}

export class ApiUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    const code = (cause as { cause?: { code?: string } })?.cause?.code;
    super(`Central's API is unreachable at ${url}: ${(cause as Error)?.message ?? String(cause)}${code ? ` (${code})` : ""}`);
    this.name = "ApiUnreachableError";
  }
}

/** 401/403: retrying will not help; the token is wrong or lacks the role. */
export class ApiRefusedError extends Error {
  constructor(what: string, status: number) {
    super(`${what} answered ${status}: the token was refused`);
    this.name = "ApiRefusedError";
  }
}

export interface RestStats {
  requests: number;
  /** 5xx answers and transport failures; 4xx are answers the flow expects (409 on a race). */
  errors: number;
  /** 429 answers that were waited out and retried. */
  rateLimited: number;
}

export interface Rest {
  readonly baseUrl: string;
  call<T = any>(method: string, path: string, token?: string, body?: unknown): Promise<RestResponse<T>>;
  stats(): RestStats;
}

/** 429s honoured per request before giving up and returning the 429 to the caller. */
const MAX_RATE_LIMIT_RETRIES = 5;

/**
 * A 429 is Central asking this client to slow down (DRIVER_RATE_PER_MINUTE): the request is
 * retried after its Retry-After, as a well-behaved driver app would, and counted, so a report
 * shows when the scenario ran into Central's limits rather than Central's behaviour.
 */
export function restClient(baseUrl: string, timeoutMs = 10_000): Rest {
  const base = baseUrl.replace(/\/+$/, "");
  const stats: RestStats = { requests: 0, errors: 0, rateLimited: 0 };
  async function once(method: string, path: string, token?: string, body?: unknown): Promise<RestResponse<any> & { retryAfterMs: number }> {
    stats.requests += 1;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      stats.errors += 1;
      throw new ApiUnreachableError(`${base}${path}`, error);
    }
    if (res.status >= 500) stats.errors += 1;
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    const retryAfterMs = Number(res.headers.get("retry-after") ?? 1) * 1000;
    return { status: res.status, body: parsed as any, retryAfterMs: Number.isFinite(retryAfterMs) ? retryAfterMs : 1_000 };
  }
  return {
    baseUrl: base,
    stats: () => ({ ...stats }),
    async call(method, path, token, body) {
      for (let attempt = 0; ; attempt++) {
        const { retryAfterMs, ...res } = await once(method, path, token, body);
        if (res.status !== 429 || attempt >= MAX_RATE_LIMIT_RETRIES) return res;
        stats.rateLimited += 1;
        await delay(Math.min(retryAfterMs, 30_000));
      }
    },
  };
}
