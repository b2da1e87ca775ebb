import type { CentralContext } from "../context.ts";

export function nowDate(ctx: Pick<CentralContext, "clock">): Date {
  return new Date(ctx.clock.now());
}
