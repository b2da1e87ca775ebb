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

/**
 * The live stream's routes (central/api/routes/stream.ts, gateways.ts) are plain Hono handlers;
 * until they move to define-route.ts they are documented here, and
 * tests/unit/openapi-routes.unit.test.ts fails if any served route is missing from the document.
 */
export function registerStreamDocs(app: ApiApp): void {
  const bearer = [{ bearer: [] }];
  const err = { description: "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  app.openAPIRegistry.registerComponent("schemas", "Error", {
    type: "object",
    properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" }, field: { type: "string" } }, required: ["code", "message"] } },
    required: ["error"],
  });
  app.openAPIRegistry.registerPath(createRoute({
    method: "post", path: "/v1/stream-tickets", summary: "A short-lived, single-use ticket for EventSource (which cannot send headers)",
    security: bearer, description: "Token: driver or operator. Pass the ticket as `GET /v1/stream?ticket=`.",
    responses: { 201: { description: "Ticket: `{ ticket, expiresAt, url }`" }, 401: err, 403: err, 429: err },
  }));
  app.openAPIRegistry.registerPath(createRoute({
    method: "get", path: "/v1/stream", summary: "Live changes as Server-Sent Events (charge_point, reservation, session, gateway, snapshot)",
    security: bearer,
    description: "Bearer token or `?ticket=`. Resume with the `Last-Event-ID` header or `?lastEventId=`. A driver's stream carries every charge point and only that driver's reservations and sessions; `gateway` events are for operators. See docs/protocol.md.",
    responses: { 200: { description: "text/event-stream", content: { "text/event-stream": { schema: { type: "string" } } } }, 401: err, 403: err, 429: err },
  }));
  app.openAPIRegistry.registerPath(createRoute({
    method: "get", path: "/v1/gateways", summary: "Each gateway's last health record; `stale` once it has gone silent",
    security: bearer, description: "Token: operator.",
    responses: { 200: { description: "Gateway health views" }, 401: err, 403: err },
  }));
}

/** OpenAPI 3.1, generated from the routes' own specs and zod schemas (define-route.ts). */
export function buildOpenApi(app: ApiApp): Record<string, unknown> {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "ChargeBridge Central API", version: "1.0.0", description: "Wire contract v1. See docs/protocol.md. Interactive reference: /docs." },
  }) as unknown as Record<string, unknown>;
}
