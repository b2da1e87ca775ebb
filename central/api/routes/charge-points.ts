import { Hono } from "hono";
import { AppError } from "../../../platform/errors.ts";
import { generateSecret, hashSecret } from "../../../platform/password-hash.ts";
import { cpIdSchema } from "../../../protocol/index.ts";
import { insertChargePoint, revokeSecret, setSecretHash } from "../../lifecycle/index.ts";
import { getChargePoint, listChargePoints } from "../../store/charge-points.ts";
import { requireRole, type AuthEnv } from "../auth.ts";
import type { ApiDeps } from "../deps.ts";
import { provisionChargePointBody } from "../schemas.ts";
import { readBody, readParam } from "../validate.ts";
import { chargePointToView } from "../views.ts";

export function chargePointRoutes(deps: ApiDeps): Hono<AuthEnv> {
  const { ctx, auth } = deps;
  const app = new Hono<AuthEnv>();
  const operator = requireRole(auth, "operator");
  const anyone = requireRole(auth, "operator", "driver");

  /** Provisions a charger; the secret is shown once here and kept only as a salted slow hash. */
  app.post("/", operator, async (c) => {
    const { cpId } = await readBody(c, provisionChargePointBody);
    const password = generateSecret();
    const hash = await hashSecret(password);
    const created = await insertChargePoint(ctx.db, cpId, hash, new Date(ctx.clock.now()));
    if (!created) throw new AppError("conflict", `Charge point '${cpId}' is already provisioned`, { field: "cpId" });
    deps.publishCredential(cpId, hash);
    ctx.log.info({ cpId }, "Charge point provisioned");
    return c.json({ cpId, mqtt: { username: cpId, password } }, 201);
  });

  /** Rotates a charger's secret; the old one stops working once gateways have the new hash. */
  app.post("/:cpId/secret", operator, async (c) => {
    const cpId = readParam(c, "cpId", cpIdSchema);
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
  app.delete("/:cpId/secret", operator, async (c) => {
    const cpId = readParam(c, "cpId", cpIdSchema);
    if (!(await revokeSecret(ctx.db, cpId))) throw new AppError("not_found", `Charge point '${cpId}' does not exist`);
    deps.publishCredential(cpId, null);
    ctx.log.warn({ cpId }, "Charge point credentials revoked");
    return c.json({ cpId, revoked: true }, 200);
  });

  app.get("/", anyone, async (c) => c.json((await listChargePoints(ctx.db)).map(chargePointToView)));

  app.get("/:cpId", anyone, async (c) => {
    const cpId = readParam(c, "cpId", cpIdSchema);
    const row = await getChargePoint(ctx.db, cpId);
    if (!row) throw new AppError("not_found", `Charge point '${cpId}' does not exist`);
    return c.json(chargePointToView(row));
  });

  return app;
}
