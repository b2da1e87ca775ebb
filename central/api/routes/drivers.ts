import { Hono } from "hono";
import { newId } from "../../../protocol/index.ts";
import { insertDriver } from "../../store/drivers.ts";
import { issueDriverToken, type AuthEnv } from "../auth.ts";
import type { ApiDeps } from "../deps.ts";
import { registerDriverBody } from "../schemas.ts";
import { readBody } from "../validate.ts";

export function driverRoutes(deps: ApiDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.post("/", async (c) => {
    const { name } = await readBody(c, registerDriverBody);
    const driverId = newId("drv");
    await insertDriver(deps.ctx.db, driverId, name, new Date(deps.ctx.clock.now()));
    const token = await issueDriverToken(deps.auth, driverId);
    return c.json({ driverId, token }, 201);
  });
  return app;
}
