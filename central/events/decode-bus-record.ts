import { busEventSchema, describeZodError, validateUpstream, type EventOrigin, type PresenceEvent, type UpstreamMessage } from "../../protocol/index.ts";

/** An events-topic record, checked: presence as the gateway saw it, or one charger message. */
export type DecodedRecord =
  | { ok: true; kind: "presence"; event: PresenceEvent }
  | { ok: true; kind: "up"; cpId: string; message: UpstreamMessage; origin?: EventOrigin }
  | { ok: false; reason: string };

/**
 * JSON, then the bus envelope, then the charger message inside it; the one decoder shared by the
 * record-at-a-time path and the batch path, so both refuse exactly the same records.
 */
export function decodeBusRecord(value: string): DecodedRecord {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return { ok: false, reason: "record is not valid JSON" };
  }
  const parsed = busEventSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: describeZodError(parsed.error, "record") };
  const event = parsed.data;
  if (event.kind === "presence") return { ok: true, kind: "presence", event };
  const decoded = validateUpstream(event.type, event.payload);
  if (!decoded.ok) return { ok: false, reason: decoded.reason };
  const { transport, chargeBox, connectorId } = event;
  const origin = transport ? { transport, ...(chargeBox && { chargeBox }), ...(connectorId && { connectorId }) } : undefined;
  return { ok: true, kind: "up", cpId: event.cpId, message: decoded.value, ...(origin && { origin }) };
}
