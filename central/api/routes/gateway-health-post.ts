import type { MiddlewareHandler } from "hono";
import { AppError } from "../../../platform/errors.ts";
import { gatewayHealthSchema } from "../../../protocol/index.ts";
import { upsertGatewayHealth } from "../../store/gateway-health.ts";
import { gatewayIdOf, requireRole, type AuthEnv } from "../auth.ts";
import { createApiApp, defineRoute, type ApiApp } from "../define-route.ts";
import type { ApiDeps } from "../deps.ts";
import { gatewayHealthAcceptedView } from "../gateway-schemas.ts";

/** A gateway token is bound to one gatewayId: it may report for that gateway only (403 before the body is read). */
const ownGatewayOnly: MiddlewareHandler<AuthEnv> = async (c, next) => {
  if (gatewayIdOf(c) !== c.req.param("gatewayId")) throw new AppError("forbidden", "This token is for another gateway");
  await next();
};

/**
 * `POST /v1/gateways/{gatewayId}/health`: the health record's side channel, for when the gateway's
 * Kafka link is down (docs/protocol.md). Same schema and same upsert as the Kafka consumer
 * (events/gateway-health-consumer.ts); the upsert keeps the newest by `at`, so a record that
 * arrives late by either path changes nothing, and the change-log trigger pushes `gateway` events.
 */
export function gatewayHealthPostRoutes(deps: ApiDeps): ApiApp {
  const app = createApiApp();
  defineRoute(app, {
    method: "post", path: "/{gatewayId}/health", summary: "A gateway's health record over HTTP (side channel while Kafka is down)", auth: "gateway",
    middleware: [requireRole(deps.auth, "gateway"), ownGatewayOnly],
    params: { gatewayId: gatewayHealthSchema.shape.gatewayId }, body: gatewayHealthSchema,
    ok: { status: 200, schema: gatewayHealthAcceptedView }, errors: [400, 401, 403, 404, 413],
  }, async (c, { params: { gatewayId }, body }) => {
    if (body.gatewayId !== gatewayId) throw new AppError("validation_failed", "Invalid gatewayId: must equal the path's gatewayId", { field: "gatewayId" });
    const stored = await upsertGatewayHealth(deps.ctx.db, body, new Date(deps.ctx.clock.now()));
    return c.json({ gatewayId, stored }, 200);
  });
  return app;
}
