import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { RPCServer } from "ocpp-rpc";
import type { Clock } from "../../platform/clock.ts";
import { listenOn, portOf } from "../../platform/listen-server.ts";
import type { PresenceEvent } from "../../protocol/index.ts";
import type { CommandDelivery, CommandLink } from "../commands/command-delivery.ts";
import type { ConnectionBudget } from "../connection-budget.ts";
import type { CheckChargerDeps, RefusalReason } from "../credentials/check-charger.ts";
import type { DurableQueue } from "../queue/durable-queue.ts";
import { encodeQueueRecord } from "../queue-record.ts";
import { authenticateUpgrade } from "./authenticate-upgrade.ts";
import type { OcppContext } from "./context.ts";
import type { RPCServerClientLike } from "./rpc-types.ts";
import { startSession, type SessionMetrics } from "./session.ts";

export const OCPP_SUBPROTOCOL = "ocpp1.6";

export interface OcppListenerOptions {
  ctx: OcppContext;
  delivery: CommandDelivery;
  admission: CheckChargerDeps;
  queue: DurableQueue;
  gatewayId: string;
  clock: Clock;
  host: string;
  port: number;
  tls?: { port: number; certFile: string; keyFile: string };
  /** Shared with the MQTT listeners (MQTT_MAX_CONNECTIONS counts both transports). */
  budget: ConnectionBudget;
  /** Largest WebSocket message; a larger one closes the connection (1009) before it is buffered. */
  maxFrameBytes: number;
  callTimeoutMs: number;
  metrics: SessionMetrics & { connected(n: number): void; refused(what: string, reason: string, cpId: string, address: string): void; takeover(cpId: string): void };
}

export interface OcppListeners {
  port(): number;
  tlsPort(): number | undefined;
  connected(): number;
  /** Closes a revoked box's live connection; true if there was one. */
  closeRevoked(cpId: string): boolean;
  close(): Promise<void>;
}

interface Live {
  client: RPCServerClientLike;
  links: Map<string, CommandLink>;
  addConnector(cpId: string): void;
}

/**
 * OCPP 1.6J at ws://{host}:{port}/ocpp/{cpId} (and wss:// with OCPPS_PORT), subprotocol ocpp1.6,
 * on ocpp-rpc in strict mode: every call in either direction is checked against the OCA JSON
 * schemas. ocpp-rpc is attached to node:http servers' `upgrade` event (works on Node and Deno),
 * so the gateway counts the connection before the upgrade, like MQTT's accept.
 */
export async function listenOcpp(o: OcppListenerOptions): Promise<OcppListeners> {
  const rpc = new RPCServer({
    protocols: [OCPP_SUBPROTOCOL],
    strictMode: true,
    callTimeoutMs: o.callTimeoutMs,
    wssOptions: { maxPayload: o.maxFrameBytes },
  });
  // An EventEmitter 'error' without a listener would throw and end the gateway: log it instead.
  rpc.on("error", (error: unknown) => o.ctx.log.warn({ err: String(error) }, "OCPP WebSocket server error"));
  const live = new Map<string, Live>();
  o.ctx.onConnector = (box, cpId) => {
    const session = live.get(box);
    if (!session || session.links.has(cpId)) return;
    session.addConnector(cpId);
    // Central reserves only online charge points: a connector is online with its box.
    presence(o, cpId, true);
  };

  rpc.auth(async (accept, reject, hs) => {
    const address = hs.remoteAddress ?? "unknown";
    if (hs.endpoint !== "/ocpp") return reject(404, "Not found: the endpoint is /ocpp/{cpId}");
    if (!hs.protocols.has(OCPP_SUBPROTOCOL)) return reject(400, `Subprotocol ${OCPP_SUBPROTOCOL} required`);
    const verdict = await authenticateUpgrade(o.admission, { cpId: hs.identity, authorization: hs.headers.authorization, address });
    if (verdict.ok) return accept({}, OCPP_SUBPROTOCOL);
    o.metrics.refused(refusalWhat(verdict.reason), verdict.reason, hs.identity, address);
    if (verdict.reason.startsWith("rate_limited")) return reject(429, "Too many attempts; try later");
    reject(401, "Unauthorized");
  });

  rpc.on("client", (client: RPCServerClientLike & { identity: string }) => {
    const box = client.identity;
    const previous = live.get(box);
    const session = startSession({ ctx: o.ctx, delivery: o.delivery, client, box, metrics: o.metrics });
    live.set(box, { client, ...session });
    o.metrics.connected(live.size);
    if (previous) {
      // Takeover, as MQTT-3.1.4-2: the authenticated newcomer is the box; the old socket goes quietly.
      o.metrics.takeover(box);
      void previous.client.close({ code: 1000, reason: "Replaced by a new connection", force: true });
    } else {
      for (const cpId of session.links.keys()) presence(o, cpId, true);
    }
    client.once("close", () => {
      for (const [cpId, link] of session.links) o.delivery.offline(cpId, link);
      if (live.get(box)?.client !== client) return; // replaced: the new connection is the box
      live.delete(box);
      o.metrics.connected(live.size);
      for (const cpId of session.links.keys()) presence(o, cpId, false);
    });
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!o.budget.take()) {
      o.metrics.refused("connection_limit", "connection_limit", "", req.socket.remoteAddress ?? "unknown");
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      socket.destroy();
      return;
    }
    socket.once("close", () => o.budget.release());
    void rpc.handleUpgrade(req, socket as never, head);
  };
  const notFound = (_req: IncomingMessage, res: import("node:http").ServerResponse) => {
    res.statusCode = 404;
    res.end();
  };

  const servers: Server[] = [];
  try {
    const plain = createServer(notFound);
    plain.on("upgrade", onUpgrade);
    servers.push(plain);
    await listenOn(plain, o.port, o.host, "OCPP_PORT");
    if (o.tls) {
      const [cert, key] = await Promise.all([readFile(o.tls.certFile), readFile(o.tls.keyFile)]);
      const secure = createHttpsServer({ cert, key, minVersion: "TLSv1.2" }, notFound);
      secure.on("upgrade", onUpgrade);
      servers.push(secure);
      await listenOn(secure, o.tls.port, o.host, "OCPPS_PORT");
    }
  } catch (error) {
    for (const s of servers) s.close();
    throw error;
  }

  return {
    port: () => portOf(servers[0]) ?? o.port,
    tlsPort: () => (o.tls ? portOf(servers[1]) ?? o.tls.port : undefined),
    connected: () => live.size,
    closeRevoked(cpId) {
      const session = live.get(cpId);
      if (!session) return false;
      void session.client.close({ code: 1008, reason: "Credentials revoked" });
      return true;
    },
    async close() {
      await rpc.close({ code: 1001, force: true });
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              (s as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        ),
      );
    },
  };
}

function refusalWhat(reason: RefusalReason): string {
  return reason.startsWith("rate_limited") ? "connect_rate_limited" : "connect";
}

/** Online/offline through the same disk queue as the box's messages, as presence.ts does for MQTT. */
function presence(o: OcppListenerOptions, cpId: string, online: boolean): void {
  const event: PresenceEvent = { kind: "presence", cpId, online, gatewayId: o.gatewayId, at: new Date(o.clock.now()).toISOString() };
  void o.queue.append(encodeQueueRecord({ topic: "events", key: cpId, value: JSON.stringify(event) })).durable.catch(() => {});
}

