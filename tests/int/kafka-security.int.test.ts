import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConsumedRecord } from "../../platform/event-bus.ts";
import { createKafkaBus, type KafkaBus } from "../../platform/kafka/kafka-bus.ts";
import type { KafkaClientSettings } from "../../platform/kafka-settings.ts";
import { freePort } from "../support/fault-rig.ts";
import { ensureKafka, stopKafka, type KafkaInstance } from "../support/kafka.ts";
import { startProcess, type RunningProcess } from "../support/processes.ts";
import { selfSignedCert } from "../support/self-signed-cert.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Kafka reached over TLS with a SASL account, as a gateway at a remote site reaches the central
 * cluster. A broker of the test's own (scripts/kafka.sh with a SASL_SSL listener), a CA that only
 * this test trusts, and accounts for PLAIN and SCRAM.
 */
const USER = "gateway-site-7";
const PASSWORD = "s3cret-for-site-7";
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe("Kafka over TLS with SASL", { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-kafka-sec-"));
  let kafka: KafkaInstance;
  let securePort = 0;
  let caFile = "";
  let ca = "";
  const buses: KafkaBus[] = [];
  let gateway: RunningProcess | undefined;

  function bus(security: KafkaClientSettings): KafkaBus {
    const b = createKafkaBus({ brokers: [`127.0.0.1:${securePort}`], clientId: `sec-${buses.length}`, logger: quiet, probeIntervalMs: 500, ...security });
    buses.push(b);
    return b;
  }

  beforeAll(async () => {
    const cert = await selfSignedCert(dir, "rsa");
    [caFile, ca] = [cert.certFile, cert.cert.toString()];
    const [port, controllerPort] = [await freePort(), await freePort()];
    securePort = await freePort();
    kafka = {
      port,
      dataDir: join(dir, "kafka"),
      env: {
        KAFKA_CONTROLLER_PORT: String(controllerPort),
        KAFKA_SASL_SSL_PORT: String(securePort),
        KAFKA_SSL_CERT_FILE: cert.certFile,
        KAFKA_SSL_KEY_FILE: cert.keyFile,
        KAFKA_SASL_USERS: `${USER}:${PASSWORD}`,
      },
    };
    await ensureKafka(kafka);
  }, 600_000);

  afterEach(async () => {
    await gateway?.kill();
    gateway = undefined;
  });

  afterAll(async () => {
    for (const b of buses) await b.close();
    if (kafka) await stopKafka(kafka).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  for (const mechanism of ["plain", "scram-sha-256", "scram-sha-512"] as const) {
    it(`publishes and consumes with SASL ${mechanism} over TLS verified against a private CA`, async () => {
      const b = bus({ ssl: { ca: [ca] }, sasl: { mechanism, username: USER, password: PASSWORD } });
      const got: ConsumedRecord[] = [];
      const topic = `secure-${mechanism}`;
      const sub = await b.subscribe(topic, { groupId: `g-${mechanism}`, fromBeginning: true }, async (r) => void got.push(r));
      await b.publish(topic, [{ key: "cp-1", value: `hello over ${mechanism}` }]);
      await waitFor(() => got.length > 0, { timeoutMs: 30_000, what: "the record back" });
      expect(got[0]).toMatchObject({ key: "cp-1", value: `hello over ${mechanism}` });
      expect(b.health().state).toBe("connected");
      await sub.close();
    });
  }

  it("keeps a client with a wrong password out, says why, and publishes nothing", async () => {
    const b = bus({ ssl: { ca: [ca] }, sasl: { mechanism: "scram-sha-256", username: USER, password: "wrong-password" } });
    await waitFor(() => /authentication failed/i.test(b.health().lastError ?? ""), { timeoutMs: 30_000, what: "the SASL refusal in health" });
    expect(b.health().state).not.toBe("connected");
    await expect(b.publish("secure-refused", [{ key: "k", value: "v" }], { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });

  it("refuses a broker whose certificate it cannot verify", async () => {
    // `ssl: true` trusts only the system's CAs, which did not sign this broker's certificate.
    const b = bus({ ssl: true, sasl: { mechanism: "plain", username: USER, password: PASSWORD } });
    await waitFor(() => /certificate/i.test(b.health().lastError ?? ""), { timeoutMs: 30_000, what: "the TLS refusal in health" });
    expect(b.health().state).not.toBe("connected");
  });

  async function startSecureGateway(password: string, runtime: "node" | "deno" = "node"): Promise<string> {
    const httpPort = await freePort();
    gateway = startProcess(
      "gateway/main.ts",
      {
        KAFKA_BROKERS: `127.0.0.1:${securePort}`,
        KAFKA_SSL: "true",
        KAFKA_SSL_CA_FILE: caFile,
        KAFKA_SASL_MECHANISM: "scram-sha-512",
        KAFKA_SASL_USERNAME: USER,
        KAFKA_SASL_PASSWORD: password,
        MQTT_PORT: String(await freePort()),
        OCPP_PORT: "0",
        MQTT_HOST: "127.0.0.1",
        GATEWAY_HTTP_PORT: String(httpPort),
        DATA_DIR: mkdtempSync(join(dir, "gw-")),
        GATEWAY_ID: `secure-${runtime}-${password.length}`,
        LOG_LEVEL: "warn",
      },
      `gateway (${runtime})`,
      runtime,
    );
    return `http://127.0.0.1:${httpPort}`;
  }

  // Edge hardware runs the gateway on Deno: kafkajs' TLS goes through Deno's node:tls there.
  for (const runtime of ["node", "deno"] as const) {
    it(`runs a gateway process on ${runtime} configured by KAFKA_SSL, KAFKA_SSL_CA_FILE and KAFKA_SASL_*`, async () => {
      const url = await startSecureGateway(PASSWORD, runtime);
      await waitFor(() => fetch(`${url}/readyz`).then((r) => r.status === 200, () => false), { timeoutMs: 60_000, what: "gateway ready on secured Kafka" });
      const health = (await (await fetch(`${url}/healthz`)).json()) as { bus: { state: string }; subscriptions: Record<string, string> };
      expect(health.bus.state).toBe("connected");
      await waitFor(async () => {
        const h = (await (await fetch(`${url}/healthz`)).json()) as { subscriptions: Record<string, string> };
        return h.subscriptions.commands === "joined" && h.subscriptions.credentials === "joined";
      }, { timeoutMs: 60_000, what: "both subscriptions joined over SASL_SSL" });
    });
  }

  it("keeps a gateway with a wrong Kafka password not ready, with the reason in /healthz", async () => {
    const url = await startSecureGateway("not-the-password");
    const health = await waitFor(
      async () => {
        const h = (await fetch(`${url}/healthz`).then((r) => r.json(), () => null)) as { bus: { lastError?: string } } | null;
        return h && /authentication failed/i.test(h.bus.lastError ?? "") ? h : null;
      },
      { timeoutMs: 60_000, what: "the SASL refusal in the gateway's /healthz" },
    );
    expect(health.bus.lastError).toMatch(/authentication failed/i);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
  });
});
