import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * A Kafka broker for integration tests. `KAFKA_BROKERS` (comma-separated) points the tests at an
 * existing cluster; otherwise scripts/kafka.sh starts (or reuses) a local single-node broker,
 * which downloads Kafka through Maven on first use. Missing Java, Maven or Kafka is an error,
 * never a skip: a test run that silently skips the Kafka tests looks green and proves nothing.
 *
 * The shared broker is left running after the tests so the next run starts in a second;
 * `scripts/kafka.sh stop` stops it.
 */
export interface KafkaInstance {
  /** PLAINTEXT port on 127.0.0.1; the controller listens on port + 1. */
  port: number;
  /** Data dir of this instance; the shared one is <repo>/.kafka. */
  dataDir?: string;
  /** More scripts/kafka.sh settings, e.g. KAFKA_SASL_SSL_PORT for a secured listener. */
  env?: Record<string, string>;
}

const SCRIPT = fileURLToPath(new URL("../../scripts/kafka.sh", import.meta.url));
const SHARED: KafkaInstance = { port: Number(process.env.KAFKA_PORT ?? 19092) };
/** First use downloads ~45 MB of jars; later starts take ~10 s. */
const START_TIMEOUT_MS = 10 * 60_000;

/** Brokers of the shared test cluster, starting a local broker unless KAFKA_BROKERS is set. */
export async function ensureKafka(instance?: KafkaInstance): Promise<string[]> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (!instance && external) return external.split(",").map((b) => b.trim()).filter(Boolean);
  const target = instance ?? SHARED;
  await runScript("start", target, START_TIMEOUT_MS);
  return brokersOf(target);
}

export function brokersOf(instance: KafkaInstance): string[] {
  return [`127.0.0.1:${instance.port}`];
}

/** SIGKILL, as a crash or power loss would; the data dir stays for `restartKafka`. */
export async function killKafka(instance: KafkaInstance = SHARED): Promise<void> {
  refuseExternal(instance);
  await runScript("kill9", instance, 30_000);
}

/** Starts the broker again on the same data dir (recovering its log after a kill). */
export async function restartKafka(instance: KafkaInstance = SHARED): Promise<void> {
  refuseExternal(instance);
  await runScript("start", instance, START_TIMEOUT_MS);
}

/** Graceful stop (SIGTERM, then SIGKILL after a deadline). */
export async function stopKafka(instance: KafkaInstance = SHARED): Promise<void> {
  refuseExternal(instance);
  await runScript("stop", instance, 60_000);
}

export async function kafkaRunning(instance: KafkaInstance = SHARED): Promise<boolean> {
  try {
    await runScript("status", instance, 10_000);
    return true;
  } catch {
    return false;
  }
}

function refuseExternal(instance: KafkaInstance): void {
  if (instance === SHARED && process.env.KAFKA_BROKERS?.trim()) {
    throw new Error("KAFKA_BROKERS points at an external cluster; fault tests need a broker of their own");
  }
}

function runScript(command: string, instance: KafkaInstance, timeoutMs: number): Promise<string> {
  const env = {
    ...process.env,
    KAFKA_PORT: String(instance.port),
    ...(instance.dataDir ? { KAFKA_DATA_DIR: instance.dataDir } : {}),
    ...instance.env,
  };
  return new Promise((resolve, reject) => {
    execFile("bash", [SCRIPT, command], { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const tail = stderr.trim().split("\n").slice(-25).join("\n");
      reject(
        new Error(
          `scripts/kafka.sh ${command} failed for port ${instance.port}` +
            ` (${error.killed ? `timed out after ${timeoutMs} ms` : `exit ${error.code}`}).` +
            ` The Kafka tests need Java 17+ and Maven (or KAFKA_BROKERS).\n${tail}`,
        ),
      );
    });
  });
}
