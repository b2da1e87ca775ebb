import { z } from "zod";
import { StartupError } from "./startup-error.ts";

/** A yes/no setting: `true`/`1` or `false`/`0`; anything else is refused, naming the variable. */
export const envFlag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/**
 * Parses settings from the environment with a zod schema. Empty values count as unset, and a bad
 * value stops start-up with a message naming the variable (a StartupError: one line, exit 2).
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StartupError("invalid_config", `Invalid configuration: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data;
}
