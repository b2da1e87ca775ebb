import type { Logger } from "../../platform/logger.ts";
import type { CommandDelivery, CommandLink } from "../commands/command-delivery.ts";
import type { PendingCommand } from "../commands/command-store.ts";
import { emit, nowIso, type OcppContext } from "./context.ts";
import { contentId } from "./message-id.ts";

/** The part of an ocpp-rpc client the adapter needs (a real RPCServerClient in production). */
export interface OcppCaller {
  call(method: string, params: unknown): Promise<unknown>;
}

type Call = { method: string; params: Record<string, unknown> } | { refuse: string } | { answered: string };

/**
 * The OCPP side of command delivery (docs/ocpp.md, "Central → charge box"): each ChargeBridge
 * command becomes one CALL to the box that speaks for its charge point, and the box's answer a
 * `command_result` ingested like a charger message (Accepted → accepted; any other status →
 * refused with the status as reason). Only once that result is fsynced does the command leave
 * the store. A CALL that times out, or a connection that drops, leaves the command pending: it
 * goes out again when the box reconnects, until COMMAND_TTL_SECONDS expires it, as for MQTT.
 */
export function ocppCommandLink(deps: {
  ctx: OcppContext;
  delivery: CommandDelivery;
  caller: OcppCaller;
  box: string;
  connectorId: number;
  log: Logger;
  onCall(method: string, outcome: string): void;
}): CommandLink {
  const { ctx, delivery, caller, box, connectorId, log } = deps;
  const inFlight = new Set<string>();

  const translate = async (cmd: PendingCommand): Promise<Call> => {
    const reservationId = String(cmd.payload.reservationId);
    switch (cmd.type) {
      case "reserve": {
        const { r, durable } = ctx.maps.reservation({ reservationId, cpId: cmd.cpId, box, connectorId, expiresAt: Date.parse(String(cmd.payload.expiresAt)) });
        await durable; // the box must never hold a reservationId the gateway could forget
        return { method: "ReserveNow", params: { connectorId, expiryDate: new Date(r.expiresAt).toISOString(), idTag: r.idTag, reservationId: r.ocppId } };
      }
      case "cancel_reservation": {
        const r = ctx.maps.byChargeBridgeId(reservationId);
        // Never sent to this box (the reserve expired in the store): there is nothing to cancel.
        if (!r) return { answered: "not_held" };
        return { method: "CancelReservation", params: { reservationId: r.ocppId } };
      }
      case "start": {
        const r = ctx.maps.byChargeBridgeId(reservationId);
        if (!r) return { refuse: "unknown_reservation" };
        return { method: "RemoteStartTransaction", params: { connectorId: r.connectorId, idTag: r.idTag } };
      }
      case "stop": {
        const t = ctx.maps.openTransactionFor(reservationId);
        if (!t) return { refuse: "no_transaction" };
        return { method: "RemoteStopTransaction", params: { transactionId: t.txId } };
      }
      default:
        return { refuse: `unsupported_command: ${cmd.type}` };
    }
  };

  const finish = async (cmd: PendingCommand, accepted: boolean, reason?: string) => {
    const payload = { id: contentId("res", cmd.payload.id), ts: nowIso(ctx), commandId: cmd.payload.id, accepted, ...(reason ? { reason } : {}) };
    await emit(ctx, cmd.cpId, "command_result", payload);
    await delivery.done(cmd.payload.id);
    delivery.delivered(cmd.type);
  };

  const run = async (cmd: PendingCommand) => {
    const call = await translate(cmd);
    if ("refuse" in call) return finish(cmd, false, call.refuse);
    if ("answered" in call) return finish(cmd, true, call.answered);
    let answer: unknown;
    try {
      answer = await caller.call(call.method, call.params);
    } catch (error) {
      const code = (error as { rpcErrorCode?: string }).rpcErrorCode;
      if (code) {
        // The box answered with a CALLERROR (NotSupported, NotImplemented, …): a definite no.
        deps.onCall(call.method, code);
        return finish(cmd, false, code);
      }
      // Timeout or connection gone: unanswered, like an MQTT command without PUBACK.
      deps.onCall(call.method, "unanswered");
      log.warn({ cpId: cmd.cpId, commandId: cmd.payload.id, method: call.method, err: String(error) }, "OCPP command unanswered; kept for the next connection");
      return;
    }
    const status = String((answer as { status?: unknown }).status);
    deps.onCall(call.method, status);
    if (status === "Accepted" && cmd.type === "cancel_reservation") {
      const r = ctx.maps.byChargeBridgeId(String(cmd.payload.reservationId));
      if (r) await ctx.maps.endReservation(r.ocppId);
    }
    await finish(cmd, status === "Accepted", status === "Accepted" ? undefined : status);
  };

  return {
    send(cmd) {
      if (inFlight.has(cmd.payload.id)) return;
      inFlight.add(cmd.payload.id);
      run(cmd)
        .catch((error: unknown) => log.warn({ cpId: cmd.cpId, commandId: cmd.payload.id, err: String(error) }, "OCPP command failed; kept for the next connection"))
        .finally(() => inFlight.delete(cmd.payload.id));
    },
  };
}
