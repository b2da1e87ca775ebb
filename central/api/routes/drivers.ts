import { Hono, type MiddlewareHandler } from "hono";
import { AppError } from "../../../platform/errors.ts";
import { newId } from "../../../protocol/index.ts";
import { getDriver, insertDriver } from "../../store/drivers.ts";
import { driverIdOf, issueDriverToken, requireRole, type AuthEnv } from "../auth.ts";
import type { ApiDeps } from "../deps.ts";
import { registerDriverBody } from "../schemas.ts";
import { readBody } from "../validate.ts";

/** `limitRegistrations` guards the one unauthenticated endpoint that writes (per client address). */
export function driverRoutes(deps: ApiDeps, limitRegistrations: MiddlewareHandler): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.post("/", limitRegistrations, async (c) => {
    const { name } = await readBody(c, registerDriverBody);
    const driverId = newId("drv");
    await insertDriver(deps.ctx.db, driverId, name, new Date(deps.ctx.clock.now()));
    const token = await issueDriverToken(deps.auth, driverId);
    return c.json({ driverId, token }, 201);
  });

  /** The driver's own profile, as stored: the name comes back exactly as it was given. */
  app.get("/me", requireRole(deps.auth, "driver"), async (c) => {
    const row = await getDriver(deps.ctx.db, driverIdOf(c));
    if (!row) throw new AppError("not_found", "This driver does not exist");
    return c.json({ driverId: row.driver_id, name: row.name, createdAt: row.created_at.toISOString() });
  });
  return app;
}
