import { listenError } from "./startup-error.ts";

/** What node:net, node:tls, node:http and node:https servers share for listening. */
interface ListeningServer {
  listen(port: number, host: string, callback: () => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
  address(): unknown;
}

/**
 * Listens on `port`, or rejects with the one-line start-up refusal naming `setting` (the variable
 * that chose the port) when it is taken; `guess` says what probably holds it.
 */
export function listenOn(server: ListeningServer, port: number, host: string, setting: string, guess?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(listenError(error, setting, port, guess));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** The port a server listens on (the chosen one when it was asked for port 0). */
export function portOf(server: ListeningServer | undefined): number | undefined {
  const address = server?.address() as { port?: number } | string | null | undefined;
  return typeof address === "object" && address ? address.port : undefined;
}
