import { Hono } from "hono";
import { gatewayToView, listGatewayHealth } from "../../store/gateway-health.ts";
import { requireRole, type AuthEnv } from "../auth.ts";
import type { ApiDeps } from "../deps.ts";

/** `GET /v1/gateways`: each gateway's last health record, `stale` once it has been silent too long. Operators only. */
export function gatewayRoutes(deps: ApiDeps): Hono<AuthEnv> {
  const { ctx } = deps;
  const app = new Hono<AuthEnv>();
  app.get("/", requireRole(deps.auth, "operator"), async (c) => {
    const rows = await listGatewayHealth(ctx.db);
    const now = ctx.clock.now();
    return c.json(rows.map((r) => gatewayToView(r, now, ctx.config.GATEWAY_STALE_SECONDS * 1000)));
  });
  return app;
}
