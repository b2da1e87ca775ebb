import { faulted, returnToService } from "../lifecycle/index.ts";
import type { EventHandler } from "./handler.ts";

export const onFault: EventHandler<"fault"> = (tx, ctx, e) => faulted(tx, ctx, e.cpId, e.payload.code, e.payload.message, e.now);

export const onFaultCleared: EventHandler<"fault_cleared"> = (tx, _ctx, e) => returnToService(tx, e.cpId, ["faulted"]);
