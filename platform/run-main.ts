import { STARTUP_EXIT_CODES, StartupError } from "./startup-error.ts";

/**
 * The one home of an entry point's start-up failure: a StartupError (bad setting, busy port,
 * locked queue) becomes one human-readable line on stderr, `<name>: <message>`, and exit status
 * 2 (configuration) or 1 (environment). Logs stay JSON on stdout, so stderr is that line alone.
 * Any other error is unexpected and is printed with its stack (exit 1), since that is a bug.
 */
export async function runMain(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`${name}: ${error.message.replace(/\s*\n\s*/g, " ")}\n`);
      process.exit(STARTUP_EXIT_CODES[error.code]);
    }
    process.stderr.write(`${name}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}
