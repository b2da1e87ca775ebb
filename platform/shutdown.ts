import type { Logger } from "./logger.ts";

/**
 * Graceful shutdown on SIGTERM/SIGINT: run `stop` (which flushes what the process holds) within
 * a deadline, then exit. A second signal exits at once.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>, deadlineMs = 15_000): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, "Shutting down");
    const timer = setTimeout(() => {
      log.error({ deadlineMs }, "Shutdown deadline passed; exiting");
      process.exit(1);
    }, deadlineMs);
    stop().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, "Shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}
