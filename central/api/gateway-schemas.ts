import { z } from "zod";

/** Answers of the gateway side-channel routes (routes/gateway-token.ts, routes/gateway-health-post.ts). */
export const gatewayTokenView = z.object({ gatewayId: z.string(), token: z.string() });
/** `stored: false`: Central already held a record at least as new (newest `at` wins, either path). */
export const gatewayHealthAcceptedView = z.object({ gatewayId: z.string(), stored: z.boolean() });
