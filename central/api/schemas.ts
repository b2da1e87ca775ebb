import { z } from "zod";
import { cpIdSchema, entityIdSchema, isStorableText, STORABLE_TEXT } from "../../protocol/index.ts";

/** REST request bodies and response shapes; the OpenAPI document and the types come from these. */
export const provisionChargePointBody = z.object({ cpId: cpIdSchema });
export const registerDriverBody = z.object({ name: z.string().trim().min(1).max(200).refine(isStorableText, STORABLE_TEXT) });
export const createReservationBody = z.object({ cpId: cpIdSchema.optional() });

export const chargePointView = z.object({
  cpId: z.string(),
  status: z.enum(["available", "reserved", "charging", "faulted", "unavailable"]),
  online: z.boolean(),
  lastSeenAt: z.string().nullable(),
  reportedStatus: z.string().nullable(),
  vendor: z.string().nullable(),
  model: z.string().nullable(),
  firmware: z.string().nullable(),
  fault: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
  /** The last disagreement between Central and the charger, resolved in the charger's favour. */
  conflict: z.object({ kind: z.string(), detail: z.string().nullable(), at: z.string() }).nullable(),
  /** The operator revoked its credentials: it cannot connect, and it is never reserved. */
  credentialsRevoked: z.boolean(),
  /** How the charger reaches its gateway, as the gateway reported it; null until it boots. */
  transport: z.enum(["mqtt", "ocpp1.6"]).nullable(),
  /**
   * Which box and connector this charge point is (docs/ocpp.md, "Connectors"): an MQTT charger is
   * connector 1 of itself, connector N ≥ 2 of OCPP box X is charge point X-N. Null until known.
   */
  connector: z.object({ chargeBox: z.string(), connectorId: z.number().int() }).nullable(),
});

export const revokedChargePointView = z.object({ cpId: z.string(), revoked: z.literal(true) });

export const provisionedChargePointView = z.object({
  cpId: z.string(),
  mqtt: z.object({ username: z.string(), password: z.string() }),
});

export const driverView = z.object({ driverId: z.string(), token: z.string() });
export const driverProfileView = z.object({ driverId: z.string(), name: z.string(), createdAt: z.string() });

export const reservationView = z.object({
  reservationId: z.string(),
  cpId: z.string(),
  status: z.enum(["reserved", "charging", "completed", "expired", "cancelled"]),
  expiresAt: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  endReason: z.string().nullable(),
});

export const commandAcceptedView = z.object({ reservationId: z.string(), commandId: z.string() });

export const sessionView = z.object({
  sessionId: z.string(),
  reservationId: z.string(),
  cpId: z.string(),
  energyWh: z.number().nullable(),
  powerW: z.number().nullable(),
  startedAt: z.string(),
  stoppedAt: z.string().nullable(),
  stopReason: z.string().nullable(),
  late: z.boolean(),
});

export const errorView = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

export const idParam = entityIdSchema;

export type ChargePointView = z.infer<typeof chargePointView>;
export type ReservationView = z.infer<typeof reservationView>;
export type SessionView = z.infer<typeof sessionView>;
