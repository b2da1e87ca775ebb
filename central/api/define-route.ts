import { OpenAPIHono, createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AuthEnv } from "./auth.ts";
import { errorView } from "./schemas.ts";
import { readBody, readParam } from "./validate.ts";

export type Audience = "operator" | "driver" | "driver or operator" | "gateway";

/**
 * One REST operation: its path, method and schemas are both what the router serves and validates
 * and what /openapi.json documents, so the document cannot drift from the code.
 */
export interface RouteSpec<B extends z.ZodType | undefined, P extends Record<string, z.ZodType>> {
  method: "get" | "post" | "delete";
  /** OpenAPI style, relative to the sub-app: "/{cpId}/secret". */
  path: string;
  summary: string;
  auth?: Audience;
  body?: B;
  params?: P;
  ok: { status: number; schema: z.ZodType | null; description?: string };
  errors: number[];
  /** Runs before validation, so a caller without a valid token learns nothing about the body. */
  middleware?: MiddlewareHandler<AuthEnv>[];
}

type Input<B, P> = {
  body: B extends z.ZodType ? z.infer<B> : undefined;
  params: { [K in keyof P]: P[K] extends z.ZodType ? z.infer<P[K]> : never };
};

export type RouteHandler<B, P> = (c: Context<AuthEnv>, input: Input<B, P>) => Response | Promise<Response>;

export const createApiApp = () => new OpenAPIHono<AuthEnv>();
export type ApiApp = OpenAPIHono<AuthEnv>;

const json = (schema: z.ZodType) => ({ "application/json": { schema } });

/** The OpenAPI side of a spec (zod-to-openapi renders the zod schemas to JSON Schema). */
function toRouteConfig(spec: RouteSpec<z.ZodType | undefined, Record<string, z.ZodType>>): RouteConfig {
  const responses: RouteConfig["responses"] = {
    [spec.ok.status]: { description: spec.ok.description ?? "Success", ...(spec.ok.schema ? { content: json(spec.ok.schema) } : {}) },
  };
  // Every request with a driver token counts against that driver's rate limit (rate-limit.ts).
  const errors = spec.auth?.includes("driver") ? [...spec.errors, 429] : spec.errors;
  for (const status of errors) responses[status] = { description: "Error", content: json(errorView) };
  return createRoute({
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    ...(spec.auth ? { security: [{ bearer: [] }], description: `Token: ${spec.auth}.` } : {}),
    request: {
      ...(spec.params ? { params: z.object(spec.params) } : {}),
      ...(spec.body ? { body: { required: true, content: json(spec.body) } } : {}),
    },
    responses,
  });
}

/**
 * Registers the operation with the router and the document. Validation is ours (validate.ts),
 * not zod-openapi's validators: those would answer 415 to a body without a JSON content type and
 * give errors another shape, and the v1 contract keeps `{ error: { code, message, field } }`.
 */
export function defineRoute<B extends z.ZodType | undefined = undefined, P extends Record<string, z.ZodType> = Record<never, never>>(
  app: ApiApp,
  spec: RouteSpec<B, P>,
  handler: RouteHandler<B, P>,
): void {
  app.openAPIRegistry.registerPath(toRouteConfig(spec as RouteSpec<z.ZodType | undefined, Record<string, z.ZodType>>));
  const honoPath = spec.path.replaceAll(/\{(\w+)\}/g, ":$1");
  const run: MiddlewareHandler<AuthEnv> = async (c) => {
    const params: Record<string, unknown> = {};
    for (const [name, schema] of Object.entries(spec.params ?? {})) params[name] = readParam(c, name, schema);
    const body = spec.body ? await readBody(c, spec.body) : undefined;
    return handler(c, { body, params } as Input<B, P>);
  };
  app.on(spec.method.toUpperCase(), [honoPath], ...(spec.middleware ?? []), run);
}
