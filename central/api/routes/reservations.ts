import { Hono } from "hono";
import { cancelByDriver, getDriverReservation, requestStart, requestStop, reserve } from "../../lifecycle/index.ts";
import { driverIdOf, requireRole, type AuthEnv } from "../auth.ts";
import type { ApiDeps } from "../deps.ts";
import { createReservationBody, idParam } from "../schemas.ts";
import { readBody, readParam } from "../validate.ts";
import { reservationToView } from "../views.ts";

export function reservationRoutes(deps: ApiDeps): Hono<AuthEnv> {
  const { ctx } = deps;
  const app = new Hono<AuthEnv>();
  app.use("*", requireRole(deps.auth, "driver"));

  app.post("/", async (c) => {
    const body = await readBody(c, createReservationBody);
    const row = await reserve(ctx, { driverId: driverIdOf(c), cpId: body.cpId });
    return c.json(reservationToView(row), 201);
  });

  app.get("/:id", async (c) => {
    const id = readParam(c, "id", idParam);
    return c.json(reservationToView(await getDriverReservation(ctx.db, driverIdOf(c), id)));
  });

  app.post("/:id/start", async (c) => {
    const id = readParam(c, "id", idParam);
    const commandId = await requestStart(ctx, driverIdOf(c), id);
    return c.json({ reservationId: id, commandId }, 202);
  });

  app.post("/:id/stop", async (c) => {
    const id = readParam(c, "id", idParam);
    const commandId = await requestStop(ctx, driverIdOf(c), id);
    return c.json({ reservationId: id, commandId }, 202);
  });

  app.delete("/:id", async (c) => {
    const id = readParam(c, "id", idParam);
    return c.json(reservationToView(await cancelByDriver(ctx, driverIdOf(c), id)));
  });

  return app;
}
