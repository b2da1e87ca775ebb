/** Machine-readable error codes; the HTTP mapping lives in one place (central/api/on-error.ts). */
export type ErrorCode =
  | "validation_failed"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "no_charge_point_available"
  | "charge_point_not_available"
  | "invalid_state"
  | "payload_too_large"
  | "rate_limited"
  | "unavailable"
  | "internal";

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AppError";
  }
}
