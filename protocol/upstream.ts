import { z } from "zod";
import { entityIdSchema, isoTimestampSchema, messageIdSchema, textSchema } from "./ids.ts";

/** Every charger message carries its own unique id and the charger's clock. */
const base = { id: messageIdSchema, ts: isoTimestampSchema };

export const CHARGER_STATUSES = ["available", "reserved", "charging", "faulted", "unavailable"] as const;
export const chargerStatusSchema = z.enum(CHARGER_STATUSES);

const wh = z.number().finite().nonnegative();

export const upstreamSchemas = {
  boot: z.object({
    ...base,
    vendor: textSchema(128),
    model: textSchema(128),
    firmware: textSchema(128),
    /** Added field, informative only: how the charger reached the gateway. Central does not depend on it. */
    transport: z.enum(["mqtt", "ocpp1.6"]).optional(),
  }),
  status: z.object({ ...base, status: chargerStatusSchema }),
  heartbeat: z.object({ ...base }),
  charging_started: z.object({ ...base, reservationId: entityIdSchema, meterStartWh: wh }),
  meter: z.object({ ...base, reservationId: entityIdSchema, energyWh: wh, powerW: z.number().finite().nonnegative() }),
  charging_stopped: z.object({ ...base, reservationId: entityIdSchema, meterStopWh: wh, reason: textSchema(256) }),
  fault: z.object({ ...base, code: textSchema(128), message: textSchema(1024) }),
  fault_cleared: z.object({ ...base }),
  command_result: z.object({
    ...base,
    commandId: entityIdSchema,
    accepted: z.boolean(),
    reason: textSchema(256).optional(),
  }),
} as const;

export type UpstreamType = keyof typeof upstreamSchemas;
export const UPSTREAM_TYPES = Object.keys(upstreamSchemas) as UpstreamType[];

export type UpstreamPayload<T extends UpstreamType = UpstreamType> = z.infer<(typeof upstreamSchemas)[T]>;

/** A validated charger message: the type comes from the topic, the fields from the payload. */
export type UpstreamMessage = {
  [T in UpstreamType]: { type: T; payload: UpstreamPayload<T> };
}[UpstreamType];

export function isUpstreamType(value: string): value is UpstreamType {
  return Object.hasOwn(upstreamSchemas, value);
}

export type ChargerStatus = z.infer<typeof chargerStatusSchema>;
