/**
 * Why a bus refused a publish, as a code the caller can decide on instead of parsing message
 * text (after platformatic/kafka's coded errors with `canRetry`). `retriable` says whether trying
 * the same records again can ever succeed: a link that is down heals, a record that is too large
 * stays too large.
 */
export type BusErrorCode =
  /** A record, or the records of one partition together, exceed what the bus accepts. */
  | "bus_record_too_large"
  /** The bus found a record malformed or corrupt. */
  | "bus_invalid_record"
  /** The bus refuses this client the topic or cluster (ACLs); an operator must act. */
  | "bus_not_authorized"
  /** The request itself is wrong for this bus (topic name, acks, policy, version). */
  | "bus_invalid_request"
  /** The bus object was closed; nothing more will be sent through it. */
  | "bus_closed";

export class BusError extends Error {
  constructor(
    readonly code: BusErrorCode,
    message: string,
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BusError";
  }
}

/**
 * Codes that name the records rather than the link or the setup: publishing the records one by
 * one finds the culprit, and replacing it lets the rest through. Any other permanent code
 * (authorisation, a wrong topic) would refuse every record alike, so it is retried, not isolated.
 */
const RECORD_CODES: ReadonlySet<BusErrorCode> = new Set(["bus_record_too_large", "bus_invalid_record"]);

/** The code of a refusal that the records themselves caused, or undefined for anything else. */
export function recordRefusal(error: unknown): BusErrorCode | undefined {
  return error instanceof BusError && !error.retriable && RECORD_CODES.has(error.code) ? error.code : undefined;
}
