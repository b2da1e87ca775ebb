import { gatewayHealthSchema } from "../../../protocol/index.ts";
import { nextGatewayTokenGeneration } from "../../store/gateway-tokens.ts";
import { issueGatewayToken, requireRole } from "../auth.ts";
import { createApiApp, defineRoute, type ApiApp } from "../define-route.ts";
import type { ApiDeps } from "../deps.ts";
import { gatewayTokenView } from "../gateway-schemas.ts";

/**
 * `POST /v1/gateways/{gatewayId}/token`: the operator issues the token a gateway sends with its
 * health record over HTTP (GATEWAY_TOKEN, docs/security.md). Each issue moves the gateway to a
 * new generation, so earlier tokens stop working at once, on every Central instance. The
 * gateway need not have reported yet: the operator issues its token before deploying it.
 */
export function gatewayTokenRoutes(deps: ApiDeps): ApiApp {
  const app = createApiApp();
  defineRoute(app, {
    method: "post", path: "/{gatewayId}/token", summary: "Issue a gateway its health-channel token, revoking earlier ones", auth: "operator",
    middleware: [requireRole(deps.auth, "operator")],
    params: { gatewayId: gatewayHealthSchema.shape.gatewayId }, ok: { status: 200, schema: gatewayTokenView }, errors: [401, 403, 404],
  }, async (c, { params: { gatewayId } }) => {
    const generation = await nextGatewayTokenGeneration(deps.ctx.db, gatewayId);
    deps.ctx.log.info({ gatewayId, generation }, "Gateway token issued; earlier tokens revoked");
    return c.json({ gatewayId, token: await issueGatewayToken(deps.auth, gatewayId, generation) }, 200);
  });
  return app;
}
