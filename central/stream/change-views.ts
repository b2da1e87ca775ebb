import { chargePointToView, reservationToView, sessionToView } from "../api/views.ts";
import type { ChargePointRow } from "../store/charge-points.ts";
import type { ReservationRow } from "../store/reservations.ts";
import type { SessionRow } from "../store/sessions.ts";
import { gatewayToView, type GatewayHealthRow } from "../store/gateway-health.ts";
import type { ChangeRow, StreamKind } from "./change-log.ts";

/** to_jsonb() turns timestamptz into text; the views expect the Date a query returns. */
function revive<T>(data: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) out[k] = (k === "at" || k.endsWith("_at")) && typeof v === "string" ? new Date(v) : v;
  return out as T;
}

/** The event's `data`: exactly the REST view of the row as it was when it changed. */
export function changeToView(change: Pick<ChangeRow, "kind" | "row_data">, now: number, staleMs: number): unknown {
  const row = change.row_data;
  switch (change.kind) {
    case "charge_point":
      return chargePointToView(revive<ChargePointRow>(row));
    case "reservation":
      return reservationToView(revive<ReservationRow>(row));
    case "session":
      return sessionToView(revive<SessionRow>(row));
    case "gateway":
      return gatewayToView(revive<GatewayHealthRow>(row), now, staleMs);
  }
}

/** One SSE frame (WHATWG HTML §9.2 event stream format); JSON has no raw newlines, so one `data:` line. */
export function sseFrame(kind: StreamKind | "snapshot", data: unknown, id?: number): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
}
