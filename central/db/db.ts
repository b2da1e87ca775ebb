/**
 * Central's one door to its database. Both implementations speak PostgreSQL (PGlite is
 * PostgreSQL compiled to WASM), so the domain's SQL is written once; the adapters only differ in
 * how they connect and run a transaction. Both run tests/contract/store.contract.ts.
 */
export type Row = Record<string, unknown>;

export interface Sql {
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Db extends Sql {
  readonly kind: "pglite" | "postgres";
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` for each NOTIFY on `channel` (after the notifying transaction commits);
   * resolves to an unsubscribe. PostgreSQL holds one extra connection for it; PGlite is in-process.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** PostgreSQL's SQLSTATE for a unique violation: a lost race, not a bug. */
export const UNIQUE_VIOLATION = "23505";

export function pgErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
