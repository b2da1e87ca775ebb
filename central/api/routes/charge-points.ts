import { z } from "zod";
import { AppError } from "../../../platform/errors.ts";
import { generateSecret, hashSecret } from "../../../platform/password-hash.ts";
import { cpIdSchema } from "../../../protocol/index.ts";
import { insertChargePoint, revokeSecret, setSecretHash } from "../../lifecycle/index.ts";
import { getChargePoint, listChargePoints } from "../../store/charge-points.ts";
import { requireRole } from "../auth.ts";
import { createApiApp, defineRoute, type ApiApp } from "../define-route.ts";
import type { ApiDeps } from "../deps.ts";
import { chargePointView, provisionChargePointBody, provisionedChargePointView, revokedChargePointView } from "../schemas.ts";
import { chargePointToView } from "../views.ts";

const cpParam = { cpId: cpIdSchema };

export function chargePointRoutes(deps: ApiDeps): ApiApp {
  const { ctx, auth } = deps;
  const app = createApiApp();
  const operator = [requireRole(auth, "operator")];
  const anyone = [requireRole(auth, "operator", "driver")];

  /** Provisions a charger; the secret is shown once here and kept only as a salted slow hash. */
  defineRoute(app, {
    method: "post", path: "/", summary: "Provision a charger (secret shown once)", auth: "operator", middleware: operator,
    body: provisionChargePointBody, ok: { status: 201, schema: provisionedChargePointView }, errors: [400, 401, 403, 409],
  }, async (c, { body: { cpId } }) => {
    const password = generateSecret();
    const hash = await hashSecret(password);
    const created = await insertChargePoint(ctx.db, cpId, hash, new Date(ctx.clock.now()));
    if (!created) throw new AppError("conflict", `Charge point '${cpId}' is already provisioned`, { field: "cpId" });
    deps.publishCredential(cpId, hash);
    ctx.log.info({ cpId }, "Charge point provisioned");
    return c.json({ cpId, mqtt: { username: cpId, password } }, 201);
  });

  /** Rotates a charger's secret; the old one stops working once gateways have the new hash. */
  defineRoute(app, {
    method: "post", path: "/{cpId}/secret", summary: "Rotate a charger's secret", auth: "operator", middleware: operator,
    params: cpParam, ok: { status: 200, schema: provisionedChargePointView }, errors: [401, 403, 404],
  }, async (c, { params: { cpId } }) => {
    const password = generateSecret();
    const hash = await hashSecret(password);
    if (!(await setSecretHash(ctx.db, cpId, hash))) throw new AppError("not_found", `Charge point '${cpId}' does not exist`);
    deps.publishCredential(cpId, hash);
    ctx.log.info({ cpId }, "Charge point secret rotated");
    return c.json({ cpId, mqtt: { username: cpId, password } }, 200);
  });

  /**
   * Revokes a charger's credentials (decommissioned, or its controller stolen): gateways refuse
   * it from now on and close its live connection. `POST …/secret` issues a new secret again.
   */
  defineRoute(app, {
    method: "delete", path: "/{cpId}/secret", summary: "Revoke a charger's credentials; its live connection is closed", auth: "operator", middleware: operator,
    params: cpParam, ok: { status: 200, schema: revokedChargePointView }, errors: [401, 403, 404],
  }, async (c, { params: { cpId } }) => {
    if (!(await revokeSecret(ctx.db, cpId))) throw new AppError("not_found", `Charge point '${cpId}' does not exist`);
    deps.publishCredential(cpId, null);
    ctx.log.warn({ cpId }, "Charge point credentials revoked");
    return c.json({ cpId, revoked: true }, 200);
  });

  defineRoute(app, {
    method: "get", path: "/", summary: "List charge points", auth: "driver or operator", middleware: anyone,
    ok: { status: 200, schema: z.array(chargePointView) }, errors: [401],
  }, async (c) => c.json((await listChargePoints(ctx.db)).map(chargePointToView)));

  defineRoute(app, {
    method: "get", path: "/{cpId}", summary: "One charge point", auth: "driver or operator", middleware: anyone,
    params: cpParam, ok: { status: 200, schema: chargePointView }, errors: [401, 404],
  }, async (c, { params: { cpId } }) => {
    const row = await getChargePoint(ctx.db, cpId);
    if (!row) throw new AppError("not_found", `Charge point '${cpId}' does not exist`);
    return c.json(chargePointToView(row));
  });

  return app;
}
