import type { DownstreamMessage } from "../../protocol/index.ts";
import { reserveRefusal } from "./ocpp-mapping.ts";
import type { OcppConnector } from "./ocpp-connector.ts";

type Params = Record<string, unknown>;
export type CommandHandler = (params: Params, messageId: string) => Params;

/** What the charger did with each Central → charger call, for tests and the report. */
export interface OcppCommandLogEntry {
  action: string;
  params: Params;
  answer: Params;
  at: number;
}

/**
 * Central → charger calls, applied to the firmware model as the MQTT commands they mirror
 * (reserve, cancel_reservation, start, stop), so both transports share one behaviour. The
 * firmware answers synchronously; its verdict becomes the CALLRESULT status. Calls with no
 * handler here get NotImplemented from ocpp-rpc, as §4.2.3 requires.
 */
export function commandHandlers(connectors: OcppConnector[], log: OcppCommandLogEntry[]): Record<string, CommandHandler> {
  const byId = (id: unknown) => connectors.find((c) => c.connectorId === id);
  /** Runs a firmware command; null when accepted, else the firmware's reason. */
  const apply = (connector: OcppConnector, type: DownstreamMessage["type"], reservationId: string, messageId: string, extra: Params = {}): string | null => {
    const id = `ocpp-${connector.cpId}-${messageId}`.replace(/[^A-Za-z0-9_.:-]/g, "_").slice(0, 128);
    connector.firmware.handle({ type, payload: { id, reservationId, ...extra } } as DownstreamMessage);
    const entry = connector.firmware.commands.get(id);
    return entry?.accepted === false ? (entry.reason ?? "refused") : null;
  };
  const logged = (action: string, handler: CommandHandler): CommandHandler => (params, messageId) => {
    const answer = handler(params, messageId);
    log.push({ action, params, answer, at: Date.now() });
    if (log.length > 1024) log.shift();
    return answer;
  };

  return {
    // §5.13: connectorId 0 reserves the box (any connector); a known reservationId replaces the old one.
    ReserveNow: logged("ReserveNow", (p, messageId) => {
      const reservationId = p.reservationId as number;
      const holder = connectors.find((c) => c.reservationId === reservationId);
      if (holder) {
        holder.idTags.set(reservationId, p.idTag as string);
        return { status: "Accepted" };
      }
      const target = p.connectorId === 0 ? (connectors.find((c) => c.status === "available") ?? connectors[0]) : byId(p.connectorId);
      if (!target) return { status: "Rejected" };
      const refused = apply(target, "reserve", String(reservationId), messageId, { expiresAt: new Date(Date.parse(p.expiryDate as string)).toISOString() });
      if (refused) return { status: reserveRefusal(refused) };
      target.idTags.set(reservationId, p.idTag as string);
      return { status: "Accepted" };
    }),
    CancelReservation: logged("CancelReservation", (p, messageId) => {
      const reservationId = p.reservationId as number;
      const target = connectors.find((c) => c.reservationId === reservationId) ?? connectors.find((c) => c.idTags.has(reservationId));
      if (!target) return { status: "Rejected" };
      return { status: apply(target, "cancel_reservation", String(reservationId), messageId) ? "Rejected" : "Accepted" };
    }),
    // §5.11: the idTag names the reservation the driver holds; connectorId, when given, the connector.
    RemoteStartTransaction: logged("RemoteStartTransaction", (p, messageId) => {
      const idTag = p.idTag as string;
      const candidates = p.connectorId === undefined ? connectors : connectors.filter((c) => c.connectorId === p.connectorId);
      const target = candidates.find((c) => c.reservationId !== null && c.idTags.get(c.reservationId) === idTag) ??
        candidates.find((c) => c.current?.idTag === idTag);
      if (!target) return { status: "Rejected" };
      const reservationId = target.reservationId ?? target.current?.reservationId;
      if (reservationId == null) return { status: "Rejected" };
      target.pendingIdTag = idTag;
      const refused = apply(target, "start", String(reservationId), messageId);
      target.pendingIdTag = null;
      return { status: refused ? "Rejected" : "Accepted" };
    }),
    RemoteStopTransaction: logged("RemoteStopTransaction", (p, messageId) => {
      const target = connectors.find((c) => c.current !== null && c.current.transactionId === p.transactionId);
      const reservationId = target?.firmware.charging?.reservationId;
      if (!target || reservationId === undefined) return { status: "Rejected" };
      return { status: apply(target, "stop", reservationId, messageId) ? "Rejected" : "Accepted" };
    }),
  };
}
