/**
 * Start-up refusals an operator can fix: a bad setting, a port already taken, a queue directory
 * held by another gateway. `runMain` (run-main.ts) prints these as one line and exits with the
 * code's status; anything else is a bug and keeps its stack trace.
 */
export type StartupErrorCode = "invalid_config" | "port_in_use" | "queue_locked";

/** 2: fix the configuration; 1: the environment is in the way (a port, a lock), try again later. */
export const STARTUP_EXIT_CODES: Record<StartupErrorCode, number> = { invalid_config: 2, port_in_use: 1, queue_locked: 1 };

export class StartupError extends Error {
  constructor(
    readonly code: StartupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "StartupError";
  }
}

/** Node reports `code: "EADDRINUSE"`; Deno.serve throws `Deno.errors.AddrInUse`. */
function isAddressInUse(error: unknown): boolean {
  const e = error as { code?: unknown; name?: unknown } | undefined;
  return e?.code === "EADDRINUSE" || e?.name === "AddrInUse";
}

/**
 * A listen failure, named after the setting that chose the port: "MQTT_PORT 1883 is in use
 * (another MQTT broker?): set MQTT_PORT to a free port". Other errors pass through unchanged.
 */
export function listenError(error: unknown, setting: string, port: number, guess?: string): unknown {
  if (!isAddressInUse(error)) return error;
  return new StartupError("port_in_use", `${setting} ${port} is in use${guess ? ` (${guess})` : ""}: set ${setting} to a free port`);
}
