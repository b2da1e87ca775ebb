import { createRoute } from "@hono/zod-openapi";
import type { ApiApp } from "./define-route.ts";

/**
 * Documents the ops endpoints, which platform/ops-routes.ts serves for Central and the gateway
 * alike (so they are not defined through define-route.ts), and the bearer scheme.
 */
export function registerOpsDocs(app: ApiApp): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  const ops: [string, string, Record<number, string>][] = [
    ["/healthz", "Liveness", { 200: "Alive" }],
    ["/readyz", "Readiness: database and bus reachable", { 200: "Ready", 503: "Not ready" }],
    ["/metrics", "Prometheus metrics", { 200: "Prometheus text format" }],
  ];
  for (const [path, summary, statuses] of ops) {
    const responses = Object.fromEntries(Object.entries(statuses).map(([status, description]) => [status, { description }]));
    app.openAPIRegistry.registerPath(createRoute({ method: "get", path, summary, responses }));
  }
}

/** OpenAPI 3.1, generated from the routes' own specs and zod schemas (define-route.ts). */
export function buildOpenApi(app: ApiApp): Record<string, unknown> {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "ChargeBridge Central API", version: "1.0.0", description: "Wire contract v1. See docs/protocol.md. Interactive reference: /docs." },
  }) as unknown as Record<string, unknown>;
}
