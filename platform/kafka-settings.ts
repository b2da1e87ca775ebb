import { readFileSync } from "node:fs";
import { z } from "zod";
import { envFlag } from "./env-config.ts";
import { StartupError } from "./startup-error.ts";

export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;


/**
 * Kafka client settings shared by Central and gateways, from the environment.
 *
 * How they authenticate: a gateway at a site reaches the central cluster over networks nobody
 * here controls, so production wants TLS (KAFKA_SSL) and a SASL account per gateway
 * (KAFKA_SASL_*); docs/security.md has the setup. And how the topics they create look: a
 * production cluster wants more than one replica, and as many partitions as Central instances
 * (and consumer concurrency) it should scale to.
 *
 * The shape is spread into each process's config schema, and `checkKafkaSettings` refines it.
 */
export const kafkaSettingsShape = {
  /** Partitions of the topics the bus creates when they do not exist yet. */
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(10_000).default(3),
  /** Replicas of the topics the bus creates; 1 suits a single dev broker only. */
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(32).default(1),
  /** TLS to the brokers, verified against the system's CAs or KAFKA_SSL_CA_FILE. */
  KAFKA_SSL: envFlag.default(false),
  /** PEM file of the CA(s) that signed the brokers' certificates, for a private CA. */
  KAFKA_SSL_CA_FILE: z.string().optional(),
  KAFKA_SASL_MECHANISM: z.enum(SASL_MECHANISMS).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
};

const kafkaSettingsSchema = z.object(kafkaSettingsShape);
export type KafkaSettingsConfig = z.infer<typeof kafkaSettingsSchema>;

/** Cross-field rules, for the `superRefine` of a config schema that spreads `kafkaSettingsShape`. */
export function checkKafkaSettings(c: KafkaSettingsConfig, ctx: z.RefinementCtx): void {
  if (c.KAFKA_SSL_CA_FILE && !c.KAFKA_SSL) {
    ctx.addIssue({ code: "custom", path: ["KAFKA_SSL_CA_FILE"], message: "needs KAFKA_SSL=true" });
  }
  if (c.KAFKA_SASL_MECHANISM && (!c.KAFKA_SASL_USERNAME || !c.KAFKA_SASL_PASSWORD)) {
    ctx.addIssue({ code: "custom", path: ["KAFKA_SASL_MECHANISM"], message: "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD" });
  }
  if (!c.KAFKA_SASL_MECHANISM && (c.KAFKA_SASL_USERNAME || c.KAFKA_SASL_PASSWORD)) {
    // Credentials that would silently go unused are a misconfiguration, not a default.
    ctx.addIssue({ code: "custom", path: ["KAFKA_SASL_MECHANISM"], message: `is required with KAFKA_SASL_USERNAME (one of ${SASL_MECHANISMS.join(", ")})` });
  }
}

/** What the Kafka bus needs; `ssl` and `sasl` match kafkajs' options. */
export interface KafkaClientSettings {
  /** Partitions of the topics the bus creates. Default 3. */
  partitions?: number;
  /** Replicas of the topics the bus creates. Default 1 (dev); production clusters want 3. */
  replicationFactor?: number;
  ssl?: true | { ca: string[] };
  sasl?: { mechanism: (typeof SASL_MECHANISMS)[number]; username: string; password: string };
}

/** Turns checked settings into client options; reads the CA file, so a missing one fails at start. */
export function kafkaClientSettings(c: KafkaSettingsConfig): KafkaClientSettings {
  const out: KafkaClientSettings = { partitions: c.KAFKA_TOPIC_PARTITIONS, replicationFactor: c.KAFKA_REPLICATION_FACTOR };
  if (c.KAFKA_SSL) {
    let ca: string | undefined;
    if (c.KAFKA_SSL_CA_FILE) {
      try {
        ca = readFileSync(c.KAFKA_SSL_CA_FILE, "utf8");
      } catch (error) {
        throw new StartupError("invalid_config", `Invalid configuration: KAFKA_SSL_CA_FILE: cannot read ${c.KAFKA_SSL_CA_FILE} (${(error as Error).message})`);
      }
    }
    out.ssl = ca ? { ca: [ca] } : true;
  }
  if (c.KAFKA_SASL_MECHANISM && c.KAFKA_SASL_USERNAME && c.KAFKA_SASL_PASSWORD) {
    out.sasl = { mechanism: c.KAFKA_SASL_MECHANISM, username: c.KAFKA_SASL_USERNAME, password: c.KAFKA_SASL_PASSWORD };
  }
  return out;
}
