import { z } from "zod";
import { gatewayHealthSchema } from "../../protocol/index.ts";

/**
 * Response schemas of the stream and gateway routes (central/api/routes/stream.ts, gateways.ts),
 * for the OpenAPI document; the event `data` of `gateway` is `gatewayView` too.
 */
export const gatewayView = gatewayHealthSchema.omit({ kind: true }).extend({
  /** When Central stored the record, by Central's clock. */
  receivedAt: z.string(),
  /** Silent for longer than GATEWAY_STALE_SECONDS. */
  stale: z.boolean(),
});
export type GatewayView = z.infer<typeof gatewayView>;

export const streamTicketView = z.object({
  ticket: z.string(),
  expiresAt: z.string(),
  /** `/v1/stream?ticket=…`, ready for `new EventSource(url)`. */
  url: z.string(),
});
