import { readFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { listenOn, portOf } from "../../platform/listen-server.ts";
import { connectionBudget, type ConnectionBudget } from "../connection-budget.ts";
import { guardPacketSize } from "./packet-size-guard.ts";

export interface TlsListenerOptions {
  port: number;
  /** Bind address of the TLS listener; defaults to the plain listener's. */
  host?: string;
  certFile: string;
  keyFile: string;
}

export interface MqttListenerOptions {
  /** aedes' `handle`: one call per accepted connection, returning the broker's client. */
  handle(socket: Socket): { close(): void };
  host: string;
  port: number;
  /** MQTTS (MQTT over TLS, conventionally port 8883) next to the plain listener. */
  tls?: TlsListenerOptions;
  maxPacketBytes: number;
  onOversize(address: string | undefined, declaredBytes: number): void;
  /** Open connections over both listeners; one more is closed on accept. 0: no limit. */
  maxConnections?: number;
  /** Shared with the OCPP listeners when given (then `maxConnections` is ignored). */
  budget?: ConnectionBudget;
  onOverLimit?(address: string | undefined): void;
}

export interface MqttListeners {
  port(): number;
  tlsPort(): number | undefined;
  /** Stops accepting; resolves once every accepted connection has ended. */
  close(): Promise<void>;
}

/**
 * The gateway's MQTT listeners: plain TCP always, TLS when configured. Both feed the same broker,
 * so authentication and topic ACLs are identical on either; every connection gets the packet
 * size guard before aedes buffers anything.
 */
export async function listenMqtt(options: MqttListenerOptions): Promise<MqttListeners> {
  const budget = options.budget ?? connectionBudget(options.maxConnections ?? 0);
  const accept = (socket: Socket) => {
    // Counted before aedes sees the socket: a flood of idle sockets that never send CONNECT would
    // otherwise hold memory and file descriptors for aedes' whole connect timeout each.
    if (!budget.take()) {
      options.onOverLimit?.(socket.remoteAddress);
      socket.destroy();
      return;
    }
    socket.once("close", () => budget.release());
    // Commands and PUBACKs are small packets that must go out now; Nagle's algorithm held each
    // one back ~35 ms waiting for more to send (measured in bench/gateway).
    socket.setNoDelay(true);
    const client = options.handle(socket);
    guardPacketSize(socket, options.maxPacketBytes, (bytes) => {
      options.onOversize(socket.remoteAddress, bytes);
      // Closing the client first detaches aedes' packet handler synchronously, so nothing in the
      // chunk that carried the oversized header is acted upon (it can hold the whole packet).
      client.close();
    });
  };
  const servers: Server[] = [];
  try {
    const tcp = createServer(accept);
    servers.push(tcp);
    await listenOn(tcp, options.port, options.host, "MQTT_PORT", "another MQTT broker?");
    if (options.tls) {
      const [cert, key] = await Promise.all([readFile(options.tls.certFile), readFile(options.tls.keyFile)]);
      // TLS 1.2 at least: older versions have known weaknesses and no charger needs them.
      const tls = createTlsServer({ cert, key, minVersion: "TLSv1.2" }, accept);
      servers.push(tls);
      await listenOn(tls, options.tls.port, options.tls.host ?? options.host, "MQTTS_PORT");
    }
  } catch (error) {
    for (const s of servers) s.close();
    throw error;
  }
  return {
    port: () => portOf(servers[0]) ?? options.port,
    tlsPort: () => (options.tls ? portOf(servers[1]) ?? options.tls.port : undefined),
    close: () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => {}),
  };
}
