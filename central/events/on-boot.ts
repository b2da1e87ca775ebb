import { booted } from "../lifecycle/index.ts";
import type { EventHandler } from "./handler.ts";

export const onBoot: EventHandler<"boot"> = (tx, _ctx, e) => booted(tx, e.cpId, e.payload, e.origin);
