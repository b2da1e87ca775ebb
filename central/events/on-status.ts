import { linkReported, statusReported } from "../lifecycle/index.ts";
import type { EventHandler } from "./handler.ts";

export const onStatus: EventHandler<"status"> = async (tx, ctx, e) => {
  // A box reports its connectors after boot (OCPP 1.6 §4.9), so a connector charge point's first
  // word is often a status: its link facts are recorded then, not only at its next boot.
  if (e.origin) await linkReported(tx, e.cpId, e.origin);
  await statusReported(tx, ctx, { cpId: e.cpId, status: e.payload.status, eventTime: e.eventTime, now: e.now });
};
