import { z } from "zod";
import { isoTimestampSchema } from "./ids.ts";

/**
 * A gateway's health record on KAFKA_TOPIC_GATEWAY_HEALTH (key = gatewayId), published every
 * GATEWAY_HEALTH_INTERVAL_SECONDS by gateway/health-publisher.ts. Central keeps the last one per
 * gateway (GET /v1/gateways). Fields may be added, never renamed (wire contract v1).
 */
export const gatewayHealthSchema = z.object({
  kind: z.literal("gateway_health"),
  gatewayId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  /** The gateway's package version. */
  version: z.string().max(64),
  queue: z.object({
    /** Messages on disk not yet acknowledged by the bus. */
    depth: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    /** Age of the oldest queued message; 0 for an empty queue. */
    oldestAgeMs: z.number().nonnegative(),
  }),
  /** The gateway's link to Kafka (or the in-process bus) as it sees it. */
  kafka: z.object({
    state: z.enum(["connecting", "connected", "disconnected", "closed"]),
    reconnects: z.number().int().nonnegative(),
  }),
  /** Connected chargers by transport, e.g. `{ mqtt: 4, ocpp: 1 }`. */
  connected: z.record(z.string().regex(/^[a-z0-9_]{1,32}$/), z.number().int().nonnegative()),
  at: isoTimestampSchema,
});
export type GatewayHealth = z.infer<typeof gatewayHealthSchema>;
