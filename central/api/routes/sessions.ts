import { z } from "zod";
import { listSessionsForDriver } from "../../store/sessions.ts";
import { driverIdOf, requireRole } from "../auth.ts";
import { createApiApp, defineRoute, type ApiApp } from "../define-route.ts";
import type { ApiDeps } from "../deps.ts";
import { sessionView } from "../schemas.ts";
import { sessionToView } from "../views.ts";

export function sessionRoutes(deps: ApiDeps): ApiApp {
  const app = createApiApp();
  defineRoute(app, {
    method: "get", path: "/", summary: "The driver's charging sessions", auth: "driver", middleware: [requireRole(deps.auth, "driver")],
    ok: { status: 200, schema: z.array(sessionView) }, errors: [401],
  }, async (c) => c.json((await listSessionsForDriver(deps.ctx.db, driverIdOf(c))).map(sessionToView)));
  return app;
}
