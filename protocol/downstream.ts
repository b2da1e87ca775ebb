import { z } from "zod";
import { entityIdSchema, isoTimestampSchema } from "./ids.ts";

/** Commands carry the command id as `id`; the charger echoes it as `commandId` in `command_result`. */
const base = { id: entityIdSchema, ts: isoTimestampSchema };

export const downstreamSchemas = {
  reserve: z.object({ ...base, reservationId: entityIdSchema, expiresAt: isoTimestampSchema }),
  cancel_reservation: z.object({ ...base, reservationId: entityIdSchema }),
  start: z.object({ ...base, reservationId: entityIdSchema }),
  stop: z.object({ ...base, reservationId: entityIdSchema }),
} as const;

export type DownstreamType = keyof typeof downstreamSchemas;
export const DOWNSTREAM_TYPES = Object.keys(downstreamSchemas) as DownstreamType[];
export type DownstreamPayload<T extends DownstreamType = DownstreamType> = z.infer<(typeof downstreamSchemas)[T]>;

export type DownstreamMessage = {
  [T in DownstreamType]: { type: T; payload: DownstreamPayload<T> };
}[DownstreamType];

export function isDownstreamType(value: string): value is DownstreamType {
  return Object.hasOwn(downstreamSchemas, value);
}
