import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, type ErrorCode } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";

/** The one place where error codes become HTTP statuses. */
const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  no_charge_point_available: 409,
  charge_point_not_available: 409,
  invalid_state: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...(details ?? {}) } };
}

export function createOnError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AppError) {
      // RFC 9110 §10.2.3: a 429 says when to come back, in whole seconds.
      const retryAfter = err.details?.retryAfterSeconds;
      const headers: Record<string, string> = typeof retryAfter === "number" ? { "retry-after": String(retryAfter) } : {};
      return c.json(errorBody(err.code, err.message, err.details), STATUS[err.code], headers);
    }
    if (err instanceof HTTPException) {
      const code: ErrorCode = err.status === 401 ? "unauthorized" : err.status === 413 ? "payload_too_large" : "validation_failed";
      return c.json(errorBody(code, err.message || "Request refused"), err.status as ContentfulStatusCode);
    }
    log.error({ err, path: c.req.path }, "Unhandled error in request");
    return c.json(errorBody("internal", "Internal error"), 500);
  };
}
