import type { Clock } from "../../platform/clock.ts";
import { RateLimiter } from "../../platform/rate-limit.ts";

/**
 * How many dead letters one charger may put in the disk queue per minute (DEAD_LETTERS_PER_MINUTE).
 * The queue is shared by every charger of the site; without this a charger sending garbage at a
 * high rate would fill it (then everyone is backpressured) and the bus with dead letters. Beyond
 * the limit a malformed message is still acknowledged but only counted and logged (throttled).
 * One bucket per cpId; the bucket holds a minute's worth, so a short burst is kept whole.
 */
export function deadLetterLimit(perMinute: number, clock: Clock): { admit(cpId: string): boolean } {
  const limiter = new RateLimiter({ perMinute, clock });
  return { admit: (cpId) => limiter.take(cpId).ok };
}
