import { z } from "zod";
import { envFlag, parseEnv } from "../platform/env-config.ts";
import { checkKafkaSettings, kafkaSettingsShape } from "../platform/kafka-settings.ts";

const port = z.coerce.number().int().min(0).max(65_535);
const positive = z.coerce.number().positive();

/** Central's settings, read from the environment; names are part of the wire contract. */
export const centralConfigSchema = z.object({
  HTTP_PORT: port.default(8080),
  HTTP_HOST: z.string().default("0.0.0.0"),
  DATA_DIR: z.string().default("./data"),
  DATABASE_URL: z.string().optional(),
  /** PostgreSQL connections per instance, shared by the API, the event consumer, the sweeper and the outbox. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(1_000).default(10),
  /** Named prepared statements; leave off behind PgBouncer in transaction mode (before 1.21). */
  DATABASE_PREPARED_STATEMENTS: envFlag.default(false),
  KAFKA_BROKERS: z.string().optional(),
  ...kafkaSettingsShape,
  OPERATOR_TOKEN: z.string().min(16).optional(),
  TOKEN_SECRET: z.string().min(32).optional(),
  RESERVATION_TTL_SECONDS: positive.default(120),
  DRIVER_TOKEN_TTL_SECONDS: positive.default(30 * 24 * 3600),
  /** How far a charger's clock may run ahead of ours and still have its event accepted. */
  CLOCK_SKEW_TOLERANCE_SECONDS: z.coerce.number().nonnegative().default(30),
  EXPIRY_SWEEP_MS: positive.default(500),
  CENTRAL_GROUP_ID: z.string().default("chargebridge-central"),
  /** Events partitions one instance applies at once (each partition stays in order); 1 = one record at a time. */
  CENTRAL_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  INSTANCE_ID: z.string().optional(),
  MAX_BODY_BYTES: positive.default(64 * 1024),
  /** REST requests per minute per driver, and registrations per minute per address; 0 turns it off. */
  DRIVER_RATE_PER_MINUTE: z.coerce.number().int().nonnegative().default(120),
  /**
   * How long a charger message id is kept to drop replays; 0 keeps them forever. The default must
   * outlast any replay: Kafka's default log retention (168 h) and a gateway queue that filled
   * during a long outage; 336 h (14 days) is twice the former. See docs/operations.md#retention.
   */
  PROCESSED_RETENTION_HOURS: z.coerce.number().nonnegative().default(336),
  /** How long a published command is kept after its result (or, with none, its publication); 0 = forever. */
  COMMAND_RETENTION_HOURS: z.coerce.number().nonnegative().default(336),
  /** Interval of the retention prune (central/retention/retention-job.ts). */
  PRUNE_INTERVAL_SECONDS: positive.default(300),
  /** Comment lines on idle streams so proxies do not close them (docs/protocol.md#live-stream). */
  STREAM_KEEPALIVE_SECONDS: positive.default(15),
  /** Bytes queued for one slow stream client before it is disconnected (it resumes with Last-Event-ID). */
  STREAM_CLIENT_BUFFER_BYTES: z.coerce.number().int().min(4_096).default(1024 * 1024),
  /** Open streams per instance; beyond, 503. */
  STREAM_MAX_CLIENTS: z.coerce.number().int().positive().default(10_000),
  /** How far back Last-Event-ID can resume; older ids get a fresh snapshot. 0 keeps the change log forever. */
  STREAM_RETENTION_HOURS: z.coerce.number().nonnegative().default(24),
  /** Fallback read of the change log when no NOTIFY arrives (e.g. behind PgBouncer in transaction mode). */
  STREAM_POLL_MS: positive.default(1_000),
  STREAM_TICKET_TTL_SECONDS: positive.default(60),
  /** A gateway whose last health record is older than this is shown `stale: true`. */
  GATEWAY_STALE_SECONDS: positive.default(20),
}).superRefine(checkKafkaSettings);

export type CentralConfig = z.infer<typeof centralConfigSchema>;

export function loadCentralConfig(env: Record<string, string | undefined>): CentralConfig {
  return parseEnv(centralConfigSchema, env);
}
