import type { RPCServerClientLike } from "./rpc-types.ts";
import type { CommandDelivery, CommandLink } from "../commands/command-delivery.ts";
import { throttledWarning } from "../../platform/throttled-log.ts";
import { ocppCommandLink } from "./command-adapter.ts";
import { knownCpIds, type OcppContext, type OcppHandler } from "./context.ts";
import { authorize } from "./handlers/authorize.ts";
import { bootNotification } from "./handlers/boot-notification.ts";
import { heartbeat } from "./handlers/heartbeat.ts";
import { meterValues } from "./handlers/meter-values.ts";
import { startTransaction } from "./handlers/start-transaction.ts";
import { statusNotification } from "./handlers/status-notification.ts";
import { stopTransaction } from "./handlers/stop-transaction.ts";

/** Charge box → Central actions the gateway serves; any other action is answered NotImplemented. */
const HANDLERS: Record<string, OcppHandler> = {
  BootNotification: bootNotification,
  Heartbeat: heartbeat,
  StatusNotification: statusNotification,
  Authorize: authorize,
  StartTransaction: startTransaction,
  MeterValues: meterValues,
  StopTransaction: stopTransaction,
  // Acknowledged, not mapped (docs/ocpp.md, not covered).
  FirmwareStatusNotification: async () => ({}),
  DiagnosticsStatusNotification: async () => ({}),
};

type CallError = { rpcErrorCode?: string; message: string; details?: { errors?: { keyword?: string }[] } };

export interface SessionMetrics {
  call(action: string): void;
  callError(code: string): void;
  commandAnswer(action: string, status: string): void;
}

/** OCPP 1.6J's error codes (§4.2.3); the library names two of them as OCPP-J 2.0.1 and 1.6 errata do. */
function ocpp16Code(code: string | undefined): string {
  if (code === "RpcFrameworkError" || code === "FormatViolation" || code === "MessageTypeNotSupported") return "FormationViolation";
  if (code === "OccurenceConstraintViolation") return "OccurrenceConstraintViolation";
  return code ?? "GenericError";
}

/**
 * One connected charge box: its call handlers (registered per action, never a catch-all, which in
 * ocpp-rpc's strict mode would turn an unknown action into ProtocolError instead of
 * NotImplemented), its bad-input accounting, and its command links, one per charge point it
 * speaks for. Returns the links so the listener can take them offline on close.
 */
export function startSession(deps: {
  ctx: OcppContext;
  delivery: CommandDelivery;
  client: RPCServerClientLike;
  box: string;
  metrics: SessionMetrics;
}): { links: Map<string, CommandLink>; addConnector(cpId: string): void } {
  const { ctx, delivery, client, box, metrics } = deps;
  const badWarning = throttledWarning(ctx.log, "OCPP call refused with a CALLERROR");
  const refused = (code: string, what: string, raw: string) => {
    metrics.callError(code);
    badWarning.note({ cpId: box, code, what: what.slice(0, 200) });
    void ctx.deadLetter(box, `ocpp1.6/${box}`, raw, `ocpp ${code}: ${what}`).catch(() => {});
  };

  for (const [action, handler] of Object.entries(HANDLERS)) {
    client.handle(action, async ({ params }: { params: unknown }) => {
      metrics.call(action);
      try {
        return await handler(ctx, box, params);
      } catch (error) {
        ctx.log.error({ cpId: box, action, err: String(error) }, "OCPP call failed; the box will retry it");
        throw Object.assign(new Error("Internal error"), { rpcErrorCode: "InternalError" });
      }
    });
  }
  // An unparseable frame: ocpp-rpc answers it itself, with OCPP-J 2.0.1's RpcFrameworkError. The
  // answer is built before this event and sent after it, so the code is set to 1.6's here.
  client.on("badMessage", ({ buffer, error, response }: { buffer: Buffer; error: Error; response: unknown[] | null }) => {
    if (response) response[2] = ocpp16Code(response[2] as string);
    refused(ocpp16Code((response?.[2] as string) ?? (error as { rpcErrorCode?: string }).rpcErrorCode), error.message, buffer.toString("utf8"));
  });
  // A well-formed CALL refused: unknown action (NotImplemented) or schema-invalid params. The
  // library maps JSON-schema keywords to codes but leaves `enum` out (it falls to FormatViolation);
  // a value outside an enumeration is a PropertyConstraintViolation in OCPP-J 1.6 §4.2.3. The
  // CALLERROR is built before this event and handed to `response` before it is sent.
  const codes = new Map<string, string>();
  client.on("callError", ({ messageId, method, params, error }: { messageId: string; method: string; params: unknown; error: CallError }) => {
    if (error.rpcErrorCode === "InternalError") return metrics.callError("InternalError");
    const code = error.details?.errors?.[0]?.keyword === "enum" ? "PropertyConstraintViolation" : ocpp16Code(error.rpcErrorCode);
    codes.set(messageId, code);
    refused(code, `${method}: ${error.message}`, JSON.stringify([method, params]) ?? "");
  });
  client.on("response", ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
    if (!outbound || payload[0] !== 4) return;
    const code = codes.get(payload[1] as string);
    if (code === undefined) return;
    codes.delete(payload[1] as string);
    payload[2] = code;
  });

  const links = new Map<string, CommandLink>();
  const addConnector = (cpId: string) => {
    if (links.has(cpId)) return;
    const connectorId = cpId === box ? 1 : ctx.maps.routeOf(cpId)?.connectorId ?? 1;
    const link = ocppCommandLink({
      ctx,
      delivery,
      caller: client,
      box,
      connectorId,
      log: ctx.log,
      onCall: (method, status) => metrics.commandAnswer(method, status),
    });
    links.set(cpId, link);
    delivery.online(cpId, link);
  };
  for (const cpId of knownCpIds(ctx, box)) addConnector(cpId);
  return { links, addConnector };
}
