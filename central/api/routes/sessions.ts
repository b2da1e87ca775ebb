import { Hono } from "hono";
import { listSessionsForDriver } from "../../store/sessions.ts";
import { driverIdOf, requireRole, type AuthEnv } from "../auth.ts";
import type { ApiDeps } from "../deps.ts";
import { sessionToView } from "../views.ts";

export function sessionRoutes(deps: ApiDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get("/", requireRole(deps.auth, "driver"), async (c) => {
    const rows = await listSessionsForDriver(deps.ctx.db, driverIdOf(c));
    return c.json(rows.map(sessionToView));
  });
  return app;
}
