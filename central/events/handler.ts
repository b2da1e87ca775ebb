import type { EventOrigin, UpstreamPayload, UpstreamType } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import type { Sql } from "../db/db.ts";

export interface EventInput<T extends UpstreamType> {
  cpId: string;
  payload: UpstreamPayload<T>;
  /** The charger's clock (`ts`): decisions about what happened when use this, not arrival time. */
  eventTime: Date;
  /** Our clock, for bookkeeping. */
  now: Date;
  /** What the gateway's envelope says about the charger's link (absent from older gateways). */
  origin?: EventOrigin;
}

export type EventHandler<T extends UpstreamType> = (tx: Sql, ctx: CentralContext, e: EventInput<T>) => Promise<void>;
