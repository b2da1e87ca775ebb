import { Hono, type MiddlewareHandler } from "hono";
import { AppError } from "../../../platform/errors.ts";
import { entityIdSchema, newId } from "../../../protocol/index.ts";
import { getDriver, insertDriver, nextTokenGeneration } from "../../store/drivers.ts";
import { driverIdOf, issueDriverToken, requireRole, type AuthEnv } from "../auth.ts";
import type { ApiDeps } from "../deps.ts";
import { registerDriverBody } from "../schemas.ts";
import { readBody, readParam } from "../validate.ts";

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

  /** A new token for the caller; every token the driver held before stops working at once. */
  app.post("/me/token", requireRole(deps.auth, "driver"), async (c) => {
    return c.json(await reissue(driverIdOf(c)), 200);
  });

  /** The operator's answer to a lost or stolen phone: the driver's old tokens stop working. */
  app.post("/:driverId/token", requireRole(deps.auth, "operator"), async (c) => {
    return c.json(await reissue(readParam(c, "driverId", entityIdSchema)), 200);
  });

  async function reissue(driverId: string): Promise<{ driverId: string; token: string }> {
    const generation = await nextTokenGeneration(deps.ctx.db, driverId);
    if (generation === undefined) throw new AppError("not_found", "This driver does not exist");
    deps.ctx.log.info({ driverId, generation }, "Driver token reissued; earlier tokens revoked");
    return { driverId, token: await issueDriverToken(deps.auth, driverId, generation) };
  }
  return app;
}
