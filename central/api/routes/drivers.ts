import type { MiddlewareHandler } from "hono";
import { AppError } from "../../../platform/errors.ts";
import { entityIdSchema, newId } from "../../../protocol/index.ts";
import { getDriver, insertDriver, nextTokenGeneration } from "../../store/drivers.ts";
import { driverIdOf, issueDriverToken, requireRole } from "../auth.ts";
import { createApiApp, defineRoute, type ApiApp } from "../define-route.ts";
import type { ApiDeps } from "../deps.ts";
import { driverProfileView, driverView, registerDriverBody } from "../schemas.ts";

/** `limitRegistrations` guards the one unauthenticated endpoint that writes (per client address). */
export function driverRoutes(deps: ApiDeps, limitRegistrations: MiddlewareHandler): ApiApp {
  const app = createApiApp();
  const driver = [requireRole(deps.auth, "driver")];

  defineRoute(app, {
    method: "post", path: "/", summary: "Register a driver and get a token", middleware: [limitRegistrations],
    body: registerDriverBody, ok: { status: 201, schema: driverView }, errors: [400, 429],
  }, async (c, { body: { name } }) => {
    const driverId = newId("drv");
    await insertDriver(deps.ctx.db, driverId, name, new Date(deps.ctx.clock.now()));
    const token = await issueDriverToken(deps.auth, driverId);
    return c.json({ driverId, token }, 201);
  });

  /** The driver's own profile, as stored: the name comes back exactly as it was given. */
  defineRoute(app, {
    method: "get", path: "/me", summary: "The driver's own profile", auth: "driver", middleware: driver,
    ok: { status: 200, schema: driverProfileView }, errors: [401, 403],
  }, async (c) => {
    const row = await getDriver(deps.ctx.db, driverIdOf(c));
    if (!row) throw new AppError("not_found", "This driver does not exist");
    return c.json({ driverId: row.driver_id, name: row.name, createdAt: row.created_at.toISOString() });
  });

  /** A new token for the caller; every token the driver held before stops working at once. */
  defineRoute(app, {
    method: "post", path: "/me/token", summary: "A new token for the driver; earlier ones stop working", auth: "driver", middleware: driver,
    ok: { status: 200, schema: driverView }, errors: [401, 403],
  }, async (c) => c.json(await reissue(driverIdOf(c)), 200));

  /** The operator's answer to a lost or stolen phone: the driver's old tokens stop working. */
  defineRoute(app, {
    method: "post", path: "/{driverId}/token", summary: "Issue a driver a new token, revoking earlier ones", auth: "operator",
    middleware: [requireRole(deps.auth, "operator")],
    params: { driverId: entityIdSchema }, ok: { status: 200, schema: driverView }, errors: [401, 403, 404],
  }, async (c, { params: { driverId } }) => c.json(await reissue(driverId), 200));

  async function reissue(driverId: string): Promise<{ driverId: string; token: string }> {
    const generation = await nextTokenGeneration(deps.ctx.db, driverId);
    if (generation === undefined) throw new AppError("not_found", "This driver does not exist");
    deps.ctx.log.info({ driverId, generation }, "Driver token reissued; earlier tokens revoked");
    return { driverId, token: await issueDriverToken(deps.auth, driverId, generation) };
  }
  return app;
}
