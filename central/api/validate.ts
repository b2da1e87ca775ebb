import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../../platform/errors.ts";

/** Parses and validates a JSON body; a refusal names the first failing field. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  let json: unknown = {};
  if (text.trim() !== "") {
    try {
      json = JSON.parse(text);
    } catch {
      throw new AppError("validation_failed", "Request body is not valid JSON", { field: "body" });
    }
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join(".") : "body";
    throw new AppError("validation_failed", `Invalid ${field}: ${issue?.message ?? "invalid value"}`, { field });
  }
  return result.data;
}

/** Path parameters reach SQL and topics only after they match their pattern. */
export function readParam<S extends z.ZodType>(c: Context, name: string, schema: S): z.infer<S> {
  const result = schema.safeParse(c.req.param(name));
  if (!result.success) {
    throw new AppError("not_found", `No resource with that ${name}`, { field: name });
  }
  return result.data;
}
