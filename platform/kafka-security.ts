import { readFileSync } from "node:fs";
import { z } from "zod";

export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;

const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/**
 * How Central and gateways authenticate to Kafka, from the environment. A gateway at a site
 * reaches the central cluster over networks nobody here controls, so production wants TLS
 * (KAFKA_SSL) and a SASL account per gateway (KAFKA_SASL_*); docs/security.md has the setup.
 * The shape is spread into each process's config schema, and `checkKafkaSecurity` refines it.
 */
export const kafkaSecurityShape = {
  /** TLS to the brokers, verified against the system's CAs or KAFKA_SSL_CA_FILE. */
  KAFKA_SSL: flag.default(false),
  /** PEM file of the CA(s) that signed the brokers' certificates, for a private CA. */
  KAFKA_SSL_CA_FILE: z.string().optional(),
  KAFKA_SASL_MECHANISM: z.enum(SASL_MECHANISMS).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
};

const kafkaSecuritySchema = z.object(kafkaSecurityShape);
export type KafkaSecurityConfig = z.infer<typeof kafkaSecuritySchema>;

/** Cross-field rules, for the `superRefine` of a config schema that spreads `kafkaSecurityShape`. */
export function checkKafkaSecurity(c: KafkaSecurityConfig, ctx: z.RefinementCtx): void {
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

/** What the Kafka client needs; it matches kafkajs' `ssl` and `sasl` options. */
export interface KafkaSecurity {
  ssl?: true | { ca: string[] };
  sasl?: { mechanism: (typeof SASL_MECHANISMS)[number]; username: string; password: string };
}

/** Turns checked settings into client options; reads the CA file, so a missing one fails at start. */
export function kafkaSecurityOptions(c: KafkaSecurityConfig): KafkaSecurity {
  const out: KafkaSecurity = {};
  if (c.KAFKA_SSL) {
    let ca: string | undefined;
    if (c.KAFKA_SSL_CA_FILE) {
      try {
        ca = readFileSync(c.KAFKA_SSL_CA_FILE, "utf8");
      } catch (error) {
        throw new Error(`Invalid configuration: KAFKA_SSL_CA_FILE: cannot read ${c.KAFKA_SSL_CA_FILE} (${(error as Error).message})`);
      }
    }
    out.ssl = ca ? { ca: [ca] } : true;
  }
  if (c.KAFKA_SASL_MECHANISM && c.KAFKA_SASL_USERNAME && c.KAFKA_SASL_PASSWORD) {
    out.sasl = { mechanism: c.KAFKA_SASL_MECHANISM, username: c.KAFKA_SASL_USERNAME, password: c.KAFKA_SASL_PASSWORD };
  }
  return out;
}
