import { cancelByDriver, getDriverReservation, requestStart, requestStop, reserve } from "../../lifecycle/index.ts";
import { driverIdOf, requireRole } from "../auth.ts";
import { createApiApp, defineRoute, type ApiApp } from "../define-route.ts";
import type { ApiDeps } from "../deps.ts";
import { commandAcceptedView, createReservationBody, idParam, reservationView } from "../schemas.ts";
import { reservationToView } from "../views.ts";

const byId = { id: idParam };

export function reservationRoutes(deps: ApiDeps): ApiApp {
  const { ctx } = deps;
  const app = createApiApp();
  // Every path under /v1/reservations asks for a driver token first, unknown ones included.
  app.use("*", requireRole(deps.auth, "driver"));

  defineRoute(app, {
    method: "post", path: "/", summary: "Reserve a charge point (any available one without cpId)", auth: "driver",
    body: createReservationBody, ok: { status: 201, schema: reservationView }, errors: [400, 401, 404, 409],
  }, async (c, { body }) => {
    const row = await reserve(ctx, { driverId: driverIdOf(c), cpId: body.cpId });
    return c.json(reservationToView(row), 201);
  });

  defineRoute(app, {
    method: "get", path: "/{id}", summary: "One of the driver's reservations", auth: "driver",
    params: byId, ok: { status: 200, schema: reservationView }, errors: [401, 404],
  }, async (c, { params: { id } }) => c.json(reservationToView(await getDriverReservation(ctx.db, driverIdOf(c), id))));

  defineRoute(app, {
    method: "post", path: "/{id}/start", summary: "Ask the charger to start", auth: "driver",
    params: byId, ok: { status: 202, schema: commandAcceptedView }, errors: [401, 404, 409],
  }, async (c, { params: { id } }) => c.json({ reservationId: id, commandId: await requestStart(ctx, driverIdOf(c), id) }, 202));

  defineRoute(app, {
    method: "post", path: "/{id}/stop", summary: "Ask the charger to stop", auth: "driver",
    params: byId, ok: { status: 202, schema: commandAcceptedView }, errors: [401, 404, 409],
  }, async (c, { params: { id } }) => c.json({ reservationId: id, commandId: await requestStop(ctx, driverIdOf(c), id) }, 202));

  defineRoute(app, {
    method: "delete", path: "/{id}", summary: "Cancel a reservation that has not started", auth: "driver",
    params: byId, ok: { status: 200, schema: reservationView }, errors: [401, 404, 409],
  }, async (c, { params: { id } }) => c.json(reservationToView(await cancelByDriver(ctx, driverIdOf(c), id))));

  return app;
}
