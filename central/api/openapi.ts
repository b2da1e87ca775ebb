import { z } from "zod";
import {
  chargePointView,
  commandAcceptedView,
  createReservationBody,
  driverProfileView,
  driverView,
  errorView,
  provisionChargePointBody,
  provisionedChargePointView,
  revokedChargePointView,
  registerDriverBody,
  reservationView,
  sessionView,
} from "./schemas.ts";

interface RouteDoc {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  auth?: "operator" | "driver" | "driver or operator";
  body?: z.ZodType;
  ok: [number, z.ZodType | null];
  errors: number[];
}

const ROUTES: RouteDoc[] = [
  { method: "post", path: "/v1/charge-points", summary: "Provision a charger (secret shown once)", auth: "operator", body: provisionChargePointBody, ok: [201, provisionedChargePointView], errors: [400, 401, 403, 409] },
  { method: "post", path: "/v1/charge-points/{cpId}/secret", summary: "Rotate a charger's secret", auth: "operator", ok: [200, provisionedChargePointView], errors: [401, 403, 404] },
  { method: "delete", path: "/v1/charge-points/{cpId}/secret", summary: "Revoke a charger's credentials; its live connection is closed", auth: "operator", ok: [200, revokedChargePointView], errors: [401, 403, 404] },
  { method: "get", path: "/v1/charge-points", summary: "List charge points", auth: "driver or operator", ok: [200, z.array(chargePointView)], errors: [401] },
  { method: "get", path: "/v1/charge-points/{cpId}", summary: "One charge point", auth: "driver or operator", ok: [200, chargePointView], errors: [401, 404] },
  { method: "post", path: "/v1/drivers", summary: "Register a driver and get a token", body: registerDriverBody, ok: [201, driverView], errors: [400, 429] },
  { method: "get", path: "/v1/drivers/me", summary: "The driver's own profile", auth: "driver", ok: [200, driverProfileView], errors: [401, 403] },
  { method: "post", path: "/v1/drivers/me/token", summary: "A new token for the driver; earlier ones stop working", auth: "driver", ok: [200, driverView], errors: [401, 403] },
  { method: "post", path: "/v1/drivers/{driverId}/token", summary: "Issue a driver a new token, revoking earlier ones", auth: "operator", ok: [200, driverView], errors: [401, 403, 404] },
  { method: "post", path: "/v1/reservations", summary: "Reserve a charge point (any available one without cpId)", auth: "driver", body: createReservationBody, ok: [201, reservationView], errors: [400, 401, 404, 409] },
  { method: "get", path: "/v1/reservations/{id}", summary: "One of the driver's reservations", auth: "driver", ok: [200, reservationView], errors: [401, 404] },
  { method: "post", path: "/v1/reservations/{id}/start", summary: "Ask the charger to start", auth: "driver", ok: [202, commandAcceptedView], errors: [401, 404, 409] },
  { method: "post", path: "/v1/reservations/{id}/stop", summary: "Ask the charger to stop", auth: "driver", ok: [202, commandAcceptedView], errors: [401, 404, 409] },
  { method: "delete", path: "/v1/reservations/{id}", summary: "Cancel a reservation that has not started", auth: "driver", ok: [200, reservationView], errors: [401, 404, 409] },
  { method: "get", path: "/v1/sessions", summary: "The driver's charging sessions", auth: "driver", ok: [200, z.array(sessionView)], errors: [401] },
  { method: "get", path: "/healthz", summary: "Liveness", ok: [200, null], errors: [] },
  { method: "get", path: "/readyz", summary: "Readiness: database and bus reachable", ok: [200, null], errors: [503] },
  { method: "get", path: "/metrics", summary: "Prometheus metrics", ok: [200, null], errors: [] },
];

const json = (schema: z.ZodType) => ({ "application/json": { schema: z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) } });

/** OpenAPI 3.1 generated from the same zod schemas that validate requests. */
export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    const responses: Record<string, unknown> = {
      [r.ok[0]]: { description: "Success", ...(r.ok[1] ? { content: json(r.ok[1]) } : {}) },
    };
    // Every request with a driver token counts against that driver's rate limit.
    const errors = r.auth?.includes("driver") ? [...r.errors, 429] : r.errors;
    for (const status of errors) responses[status] = { description: "Error", content: json(errorView) };
    (paths[r.path] ??= {})[r.method] = {
      summary: r.summary,
      ...(r.auth ? { security: [{ bearer: [] }], description: `Token: ${r.auth}.` } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: json(r.body) } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "ChargeBridge Central API", version: "1.0.0", description: "Wire contract v1. See docs/protocol.md." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}
