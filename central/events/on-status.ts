import { statusReported } from "../lifecycle/index.ts";
import type { EventHandler } from "./handler.ts";

export const onStatus: EventHandler<"status"> = (tx, ctx, e) =>
  statusReported(tx, ctx, { cpId: e.cpId, status: e.payload.status, eventTime: e.eventTime, now: e.now });
