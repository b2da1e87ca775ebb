/**
 * Anything with a web-standard fetch handler: a Hono app of any Env. `env` carries the runtime's
 * connection details (Node: `{ incoming, outgoing }`; Deno: the serve handler's info with
 * `remoteAddr`), which is how a handler learns the client's address (see `clientAddress` in central/api/rate-limit.ts).
 */
import { listenError } from "./startup-error.ts";

export interface FetchApp {
  fetch: (request: Request, env?: any) => Response | Promise<Response>;
}

export interface HttpServerHandle {
  port: number;
  close(): Promise<void>;
}

interface DenoLike {
  serve(
    options: { port: number; hostname?: string; onListen?: (addr: { port: number }) => void },
    handler: (req: Request, info: unknown) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void>; addr: { port: number } };
}

/**
 * Serves a Hono app on the runtime at hand: Deno.serve under Deno, @hono/node-server under
 * Node. Port 0 picks a free port; the chosen one is returned. `setting` names the variable that
 * chose the port, for the one-line refusal when it is taken.
 */
export async function serveHttp(app: FetchApp, port: number, hostname = "0.0.0.0", setting = "HTTP_PORT"): Promise<HttpServerHandle> {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  if (deno) {
    let server: ReturnType<DenoLike["serve"]>;
    try {
      server = deno.serve({ port, hostname, onListen: () => {} }, (req, info) => app.fetch(req, info));
    } catch (error) {
      throw listenError(error, setting, port);
    }
    return { port: server.addr.port, close: () => server.shutdown() };
  }
  const { serve } = await import("@hono/node-server");
  return await new Promise<HttpServerHandle>((resolve, reject) => {
    const server = serve({ fetch: (req: Request, env: unknown) => app.fetch(req, env), port, hostname }, (info) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((res) => {
            const s = server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void };
            s.close(() => res());
            s.closeAllConnections?.();
          }),
      });
    });
    server.once("error", (error) => reject(listenError(error, setting, port)));
  });
}
