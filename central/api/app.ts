import { bodyLimit } from "hono/body-limit";
import { AppError } from "../../platform/errors.ts";
import { opsRoutes } from "../../platform/ops-routes.ts";
import type { Registry } from "../../platform/metrics.ts";
import type { AuthEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { createOnError, errorBody } from "./on-error.ts";
import { createApiApp, type ApiApp } from "./define-route.ts";
import { buildOpenApi, registerOpsDocs, registerStreamDocs } from "./openapi.ts";
import { createApiRateLimits } from "./rate-limit.ts";
import { chargePointRoutes } from "./routes/charge-points.ts";
import { driverRoutes } from "./routes/drivers.ts";
import { reservationRoutes } from "./routes/reservations.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { gatewayRoutes } from "./routes/gateways.ts";
import { gatewayHealthPostRoutes } from "./routes/gateway-health-post.ts";
import { gatewayTokenRoutes } from "./routes/gateway-token.ts";
import { streamRoutes } from "./routes/stream.ts";
import { webRoutes } from "../web/web-routes.ts";

/** Central's HTTP surface. Web-standard only (Request in, Response out); serving is an adapter's job. */
export function createApi(deps: ApiDeps, registry: Registry): ApiApp {
  const { ctx } = deps;
  const app = createApiApp();
  const limits = createApiRateLimits(ctx.config.DRIVER_RATE_PER_MINUTE, ctx.clock);
  const routeDeps: ApiDeps = { ...deps, auth: { ...deps.auth, admit: limits.admit } };

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || "unmatched";
    ctx.metrics.httpDuration.observe(
      { method: c.req.method, route, status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  });
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: ctx.config.MAX_BODY_BYTES,
      onError: () => {
        throw new AppError("payload_too_large", `Request body exceeds ${ctx.config.MAX_BODY_BYTES} bytes`, { field: "body" });
      },
    }),
  );

  app.route("/", opsRoutes({ registry, readiness: deps.readiness, details: deps.healthDetails }));
  app.route("/v1/charge-points", chargePointRoutes(routeDeps));
  app.route("/v1/drivers", driverRoutes(routeDeps, limits.perAddress));
  app.route("/v1/reservations", reservationRoutes(routeDeps));
  app.route("/v1/sessions", sessionRoutes(routeDeps));
  app.route("/v1/gateways", gatewayRoutes(routeDeps));
  app.route("/v1/gateways", gatewayTokenRoutes(routeDeps));
  app.route("/v1/gateways", gatewayHealthPostRoutes(routeDeps));
  if (deps.stream) app.route("/", streamRoutes(routeDeps, deps.stream));
  app.route("/", webRoutes());
  registerOpsDocs(app);
  if (deps.stream) registerStreamDocs(app);
  // Built once every route is registered; sub-apps hand their definitions up in app.route().
  let openapi: Record<string, unknown> | undefined;
  app.get("/openapi.json", (c) => c.json((openapi ??= buildOpenApi(app))));

  app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}`), 404));
  app.onError(createOnError(ctx.log));
  return app;
}
