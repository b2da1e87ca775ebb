import { pino, type Logger } from "pino";

export type { Logger };

/** Structured JSON logs on stdout; LOG_LEVEL picks the level (tests default to silent). */
export function createLogger(service: string, level?: string): Logger {
  const env = globalThis.process?.env ?? {};
  const chosen = level ?? env.LOG_LEVEL ?? (env.VITEST ? "silent" : "info");
  return pino({ level: chosen, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}
