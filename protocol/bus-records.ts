import { z } from "zod";
import { cpIdSchema, isoTimestampSchema } from "./ids.ts";
import { DOWNSTREAM_TYPES, type DownstreamMessage } from "./downstream.ts";
import { UPSTREAM_TYPES, type UpstreamMessage } from "./upstream.ts";

/** Bus topic names. Kafka deployments may rename them through configuration. */
export const DEFAULT_TOPICS = {
  events: "chargebridge.cp.events",
  commands: "chargebridge.cp.commands",
  deadLetters: "chargebridge.cp.events.dlq",
  credentials: "chargebridge.cp.credentials",
  /** Gateway health records (protocol/gateway-health.ts), key = gatewayId. */
  gatewayHealth: "chargebridge.gateways.health",
} as const;

export type TopicNames = { [K in keyof typeof DEFAULT_TOPICS]: string };

export const TRANSPORTS = ["mqtt", "ocpp1.6"] as const;
export const transportSchema = z.enum(TRANSPORTS);

/**
 * Added fields, set by the gateway (never by the charger): how the charger reached it, and for an
 * OCPP box's charge point which box and connector it is (docs/ocpp.md, "Connectors"). Optional:
 * records from older gateways lack them.
 */
const originFields = {
  transport: transportSchema.optional(),
  chargeBox: cpIdSchema.optional(),
  connectorId: z.number().int().positive().optional(),
};
export type EventOrigin = { transport: z.infer<typeof transportSchema>; chargeBox?: string; connectorId?: number };

/**
 * Upstream bus record (key = cpId). `payload` was validated by the gateway; Central validates it
 * again by `type` because a bus is a trust boundary too.
 */
export const upEventSchema = z.object({
  kind: z.literal("up"),
  cpId: cpIdSchema,
  type: z.enum(UPSTREAM_TYPES as [string, ...string[]]),
  payload: z.record(z.string(), z.unknown()),
  gatewayId: z.string(),
  receivedAt: isoTimestampSchema,
  ...originFields,
});

/** The gateway's view of a charger's connection, stamped with the gateway's clock. */
export const presenceEventSchema = z.object({
  kind: z.literal("presence"),
  cpId: cpIdSchema,
  online: z.boolean(),
  gatewayId: z.string(),
  at: isoTimestampSchema,
});

export const busEventSchema = z.discriminatedUnion("kind", [upEventSchema, presenceEventSchema]);
export type BusEvent = z.infer<typeof busEventSchema>;
export type UpEvent = z.infer<typeof upEventSchema>;
export type PresenceEvent = z.infer<typeof presenceEventSchema>;

/** Downstream bus record (key = cpId). */
export const commandRecordSchema = z.object({
  cpId: cpIdSchema,
  type: z.enum(DOWNSTREAM_TYPES as [string, ...string[]]),
  payload: z.record(z.string(), z.unknown()),
});
export type CommandRecord = z.infer<typeof commandRecordSchema>;

/** Dead letter: the raw input as text plus why it was refused. */
export const deadLetterSchema = z.object({
  source: z.enum(["gateway", "central"]),
  reason: z.string(),
  topic: z.string(),
  cpId: z.string().optional(),
  raw: z.string(),
  at: isoTimestampSchema,
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** Credential record (key = cpId): only a salted slow hash ever travels, never the secret. */
export const credentialRecordSchema = z.object({
  cpId: cpIdSchema,
  hash: z.string().nullable(),
  updatedAt: isoTimestampSchema,
});
export type CredentialRecord = z.infer<typeof credentialRecordSchema>;

export type { UpstreamMessage, DownstreamMessage };
