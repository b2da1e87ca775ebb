import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCentralConfig } from "../../central/config.ts";
import { loadGatewayConfig } from "../../gateway/config.ts";
import { kafkaClientSettings } from "../../platform/kafka-settings.ts";

const TOPICS = { partitions: 3, replicationFactor: 1 };

describe("Kafka client settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-kafka-cfg-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("leaves TLS and SASL off by default, and creates topics for a single dev broker", () => {
    expect(kafkaClientSettings(loadGatewayConfig({}))).toEqual(TOPICS);
    expect(kafkaClientSettings(loadCentralConfig({}))).toEqual(TOPICS);
  });

  it("creates topics with the configured partitions and replicas", () => {
    const c = loadCentralConfig({ KAFKA_TOPIC_PARTITIONS: "12", KAFKA_REPLICATION_FACTOR: "3" });
    expect(kafkaClientSettings(c)).toEqual({ partitions: 12, replicationFactor: 3 });
    expect(() => loadGatewayConfig({ KAFKA_TOPIC_PARTITIONS: "0" })).toThrow(/KAFKA_TOPIC_PARTITIONS/);
    expect(() => loadGatewayConfig({ KAFKA_REPLICATION_FACTOR: "two" })).toThrow(/KAFKA_REPLICATION_FACTOR/);
  });

  it("turns on TLS with the system's CAs, or with a CA file it reads at start", () => {
    expect(kafkaClientSettings(loadGatewayConfig({ KAFKA_SSL: "true" }))).toEqual({ ...TOPICS, ssl: true });
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    expect(kafkaClientSettings(loadCentralConfig({ KAFKA_SSL: "1", KAFKA_SSL_CA_FILE: caFile }))).toEqual({
      ...TOPICS,
      ssl: { ca: ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"] },
    });
  });

  it("passes a SASL account through for each mechanism", () => {
    for (const mechanism of ["plain", "scram-sha-256", "scram-sha-512"]) {
      const c = loadGatewayConfig({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: "site-7", KAFKA_SASL_PASSWORD: "pw" });
      expect(kafkaClientSettings(c)).toEqual({ ...TOPICS, sasl: { mechanism, username: "site-7", password: "pw" } });
    }
  });

  it("refuses incomplete or contradictory settings, naming the variable", () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ KAFKA_SSL: "yes" }, /KAFKA_SSL/],
      [{ KAFKA_SSL_CA_FILE: "/ca.pem" }, /KAFKA_SSL_CA_FILE: needs KAFKA_SSL=true/],
      [{ KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u" }, /KAFKA_SASL_MECHANISM: needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/],
      [{ KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" }, /KAFKA_SASL_MECHANISM: is required/],
      [{ KAFKA_SASL_MECHANISM: "gssapi", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" }, /KAFKA_SASL_MECHANISM/],
    ];
    for (const [env, message] of bad) {
      expect(() => loadGatewayConfig(env), JSON.stringify(env)).toThrow(message);
      expect(() => loadCentralConfig(env), JSON.stringify(env)).toThrow(message);
    }
  });

  it("fails at start, not at the first connection, when the CA file cannot be read", () => {
    const c = loadGatewayConfig({ KAFKA_SSL: "true", KAFKA_SSL_CA_FILE: join(dir, "missing.pem") });
    expect(() => kafkaClientSettings(c)).toThrow(/KAFKA_SSL_CA_FILE: cannot read/);
  });
});
