import { Kafka, logLevel, type LogEntry, type logCreator, type SASLOptions } from "kafkajs";
import type { BackoffOptions } from "../backoff.ts";
import { BusError, type BusErrorCode } from "../bus-error.ts";
import type { ConsumedRecord } from "../event-bus.ts";
import type { KafkaClientSettings } from "../kafka-settings.ts";

/** The subset of pino that the bus uses; pino's Logger satisfies it. */
export interface BusLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface KafkaBusOptions extends KafkaClientSettings {
  brokers: string[];
  clientId: string;
  logger?: BusLogger;

  /** Per-topic settings for topics the bus creates, e.g. `{ "x.credentials": { "cleanup.policy": "compact" } }`. */
  topicConfigs?: Record<string, Record<string, string>>;

  /**
   * How long one `publish` may wait for Kafka before it rejects. Default: no limit, i.e. publish
   * waits across outages until Kafka acks, the caller's AbortSignal fires or the bus closes.
   */
  publishTimeoutMs?: number;
  /** Pause between attempts to re-establish a lost producer, consumer or admin connection. */
  reconnectBackoff?: BackoffOptions;
  /** Pause between deliveries of a record whose handler keeps failing. */
  handlerBackoff?: BackoffOptions;
  /** TCP connect timeout per broker. Default 3000. */
  connectionTimeoutMs?: number;
  /** Per-request timeout. Default 30000. */
  requestTimeoutMs?: number;
  /** Consumer group session timeout; a member silent for this long is evicted. Default 10000. */
  sessionTimeoutMs?: number;
  /** Default 1000; a rebalance waits for every member's next heartbeat, so keep it short. */
  heartbeatIntervalMs?: number;
  /** How long a fetch waits for data on the broker. Default 500; bounds close and rebalance latency. */
  maxWaitTimeMs?: number;
  /**
   * A consumer that shows no sign of life (fetch, heartbeat, join) for this long, outside a running
   * handler, is torn down and rebuilt. Guards against kafkajs hanging without crashing. Default 60000.
   */
  stallTimeoutMs?: number;
  /**
   * Default true: a rebuilt consumer removes the group member it replaces (StaleMemberReaper) and
   * retries as soon as another link of the bus reaches Kafka. false is the behaviour before
   * issue 10 (the rejoin waits for the old member's session timeout), kept as a same-run baseline.
   */
  fastRejoin?: boolean;
  /** How often the bus checks that Kafka answers, for health() while idle. Default 5000; 0: never. */
  probeIntervalMs?: number;
  /** Least severe kafkajs entry that is formatted at all. Default "warn". */
  kafkajsLogLevel?: "nothing" | "error" | "warn" | "info" | "debug";
  onHandlerError?: (error: unknown, record: ConsumedRecord) => void;
}

export const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 5_000 };
export const DEFAULT_HANDLER_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000 };

const LEVELS = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
} as const;

/**
 * kafkajs logs every failed request at ERROR even when it recovers on the next try, and a
 * broker restart produces dozens of such lines. The supervisors log what matters (connection
 * lost, re-established, gave up on a record) at warn/info, so kafkajs' own entries go to debug.
 * Without a logger kafkajs stays silent instead of writing JSON to the console.
 */
export function kafkajsLogCreator(logger: BusLogger | undefined): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      if (!logger) return;
      const { message, timestamp: _ts, stack: _stack, ...fields } = log as LogEntry["log"] & { stack?: unknown };
      logger.debug({ kafkajs: logLevel[level], namespace, ...fields }, `kafkajs: ${message}`);
    };
}

/**
 * A fresh kafkajs client. The supervisors build a new one for every (re)connection attempt: a
 * kafkajs client that went through a broker failure can keep stale cluster state (brokers,
 * metadata, producer ids) for good, which is how a producer ends up permanently dead.
 */
export function createKafkaClient(options: KafkaBusOptions, role: string): Kafka {
  return new Kafka({
    clientId: `${options.clientId}-${role}`,
    brokers: options.brokers,
    ...(options.ssl ? { ssl: options.ssl } : {}),
    // kafkajs types `sasl` as a union per mechanism; ours is one object with a mechanism field.
    ...(options.sasl ? { sasl: options.sasl as SASLOptions } : {}),
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    enforceRequestTimeout: true,
    // Fail fast inside kafkajs; the supervisors own the long-term retry, with their own backoff.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    logLevel: LEVELS[options.kafkajsLogLevel ?? "warn"],
    logCreator: kafkajsLogCreator(options.logger),
  });
}

/**
 * Kafka error types that no retry can fix because the record or request itself is wrong; all
 * other failures (connection loss, leader moves, timeouts, stale producer state) are retried.
 */
const PERMANENT_TYPES = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "CORRUPT_MESSAGE",
  "INVALID_TOPIC_EXCEPTION",
  "INVALID_REQUIRED_ACKS",
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "POLICY_VIOLATION",
  "INVALID_REPLICATION_FACTOR",
  "INVALID_PARTITIONS",
  "INVALID_CONFIG",
  "UNSUPPORTED_VERSION",
]);

/** The Kafka error type that makes `error` permanent, walking kafkajs' wrappers; else undefined. */
export function permanentKafkaError(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== "object" || depth > 8) return undefined;
  const e = error as { type?: unknown; cause?: unknown; errors?: unknown; originalError?: unknown };
  if (typeof e.type === "string" && PERMANENT_TYPES.has(e.type)) return e.type;
  for (const inner of [e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = permanentKafkaError(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The BusError code for a permanent Kafka error type (from permanentKafkaError). */
export function busErrorCodeOf(kafkaType: string): BusErrorCode {
  if (kafkaType === "MESSAGE_TOO_LARGE" || kafkaType === "RECORD_LIST_TOO_LARGE") return "bus_record_too_large";
  if (kafkaType === "INVALID_RECORD" || kafkaType === "CORRUPT_MESSAGE") return "bus_invalid_record";
  if (kafkaType.endsWith("_AUTHORIZATION_FAILED")) return "bus_not_authorized";
  return "bus_invalid_request";
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const inner = cause instanceof Error && cause.message !== error.message ? ` (${cause.message})` : "";
    return `${error.name}: ${error.message}${inner}`;
  }
  return String(error);
}

export class BusClosedError extends BusError {
  constructor() {
    super("bus_closed", "Event bus is closed");
    this.name = "BusClosedError";
  }
}
