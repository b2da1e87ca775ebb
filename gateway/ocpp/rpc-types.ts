/** The slice of ocpp-rpc's server-side client the gateway uses (its own typings are loose). */
export interface RPCServerClientLike {
  readonly identity: string | undefined;
  handle(method: string, handler: (call: { params: any }) => Promise<unknown>): void;
  call(method: string, params: unknown): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  close(options?: { code?: number; reason?: string; force?: boolean; awaitPending?: boolean }): Promise<unknown>;
}
