import type { AddressInfo } from "node:net";
import { RPCServer } from "ocpp-rpc";

export interface StubCall {
  identity: string;
  method: string;
  params: Record<string, unknown>;
  at: number;
}

type Client = { identity: string; call(method: string, params: unknown): Promise<unknown>; close(o?: { force?: boolean }): Promise<unknown>; handle(...a: unknown[]): void };

/**
 * A stand-in central system for the charger's unit tests: ocpp-rpc's RPCServer in strict mode,
 * over a real WebSocket, so every call the simulated charger makes is validated against the OCA
 * 1.6 schemas. It answers like the gateway's contract says (docs/ocpp.md), and lets a test hold
 * back an answer to simulate a crash between a call and its CALLRESULT.
 */
export async function startStubCentral(options: { password?: string; interval?: number } = {}) {
  const calls: StubCall[] = [];
  const clients = new Map<string, Client>();
  let nextTx = 100;
  /** Methods whose next call gets no answer, and the link is cut instead. */
  const swallow = new Set<string>();
  const server = new RPCServer({ protocols: ["ocpp1.6"], strictMode: true } as unknown as ConstructorParameters<typeof RPCServer>[0]);
  server.auth((accept, reject, handshake) => {
    if (options.password !== undefined && handshake.password?.toString("utf8") !== options.password) return reject(401, "Unauthorized");
    accept({});
  });
  server.on("client", (rpcClient) => {
    const client = rpcClient as unknown as Client;
    clients.set(client.identity, client);
    client.handle(async ({ method, params }: { method: string; params: Record<string, unknown> }) => {
      calls.push({ identity: client.identity, method, params, at: Date.now() });
      if (swallow.delete(method)) {
        void client.close({ force: true });
        return new Promise(() => {});
      }
      switch (method) {
        case "BootNotification":
          return { status: "Accepted", interval: options.interval ?? 300, currentTime: new Date().toISOString() };
        case "Heartbeat":
          return { currentTime: new Date().toISOString() };
        case "StartTransaction":
          return { transactionId: nextTx++, idTagInfo: { status: "Accepted" } };
        case "StopTransaction":
          return { idTagInfo: { status: "Accepted" } };
        case "Authorize":
          return { idTagInfo: { status: "Accepted" } };
        default:
          return {};
      }
    });
  });
  const http = await server.listen(0, "127.0.0.1");
  const port = (http.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/ocpp`,
    calls,
    of: (method: string, identity?: string) => calls.filter((c) => c.method === method && (!identity || c.identity === identity)),
    swallowNext: (method: string) => swallow.add(method),
    call: (identity: string, method: string, params: Record<string, unknown>) => clients.get(identity)!.call(method, params) as Promise<Record<string, unknown>>,
    close: () => server.close({ force: true }),
  };
}
export type StubCentral = Awaited<ReturnType<typeof startStubCentral>>;
