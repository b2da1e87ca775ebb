import { connect as tcpConnect } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../gateway/config.ts";
import { createGatewayHarness, type GatewayHarness } from "../support/gateway-harness.ts";
import { selfSignedCert } from "../support/self-signed-cert.ts";
import { waitFor } from "../support/wait.ts";

function connectTls(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 5_000, ...options });
  return new Promise<MqttClient>((resolve, reject) => {
    client.once("connect", () => resolve(client));
    client.once("error", (e) => {
      client.end(true);
      reject(e);
    });
    client.once("close", () => reject(new Error("closed before CONNACK")));
  });
}

describe("MQTTS listener", () => {
  let h: GatewayHarness;
  let certDir: string;
  let cert: Buffer;
  let url: string;
  let secret: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), "cb-tls-"));
    const made = await selfSignedCert(certDir);
    cert = made.cert;
    h = await createGatewayHarness({ MQTTS_PORT: "0", TLS_CERT_FILE: made.certFile, TLS_KEY_FILE: made.keyFile });
    url = `mqtts://127.0.0.1:${h.gateway.mqttsPort()}`;
    secret = await h.addCharger("cp-tls");
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await h?.close();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  it("accepts a charger over TLS that trusts the gateway's certificate, with the same auth and ACLs", async () => {
    const c = await connectTls(url, { ca: cert, clientId: "cp-tls", username: "cp-tls", password: secret });
    clients.push(c);
    await c.publishAsync("chargebridge/v1/cp-tls/up/heartbeat", JSON.stringify({ id: "tls-1", ts: new Date().toISOString() }), { qos: 1 });
    await waitFor(() => h.events.some((r) => r.value.includes('"tls-1"')), { what: "heartbeat over TLS" });
    const granted = await c.subscribeAsync("#", { qos: 1 }).then(
      (g) => g[0]?.qos,
      (e: { packet?: { granted?: number[] } }) => e.packet?.granted?.[0],
    );
    expect(granted).toBe(128);
  });

  it("refuses the wrong secret over TLS too (CONNACK 4)", async () => {
    const attempt = connectTls(url, { ca: cert, clientId: "cp-tls", username: "cp-tls", password: "wrong" });
    await expect(attempt).rejects.toMatchObject({ code: 4 });
  });

  it("is refused by a client that does not trust the certificate", async () => {
    await expect(connectTls(url, { clientId: "cp-tls", username: "cp-tls", password: secret })).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it("keeps the plain listener working next to it", async () => {
    const c = await h.connect("cp-tls", secret, { clientId: "cp-tls" });
    expect(c.connected).toBe(true);
    c.end(true);
  });

  it("refuses MQTTS_PORT without a certificate and key at configuration time", () => {
    expect(() => loadGatewayConfig({ MQTTS_PORT: "8883" })).toThrow(/MQTTS_PORT: needs TLS_CERT_FILE and TLS_KEY_FILE/);
  });
});

describe("MQTTS_HOST binds the TLS listener apart from the plain one", () => {
  it("listens for TLS only on MQTTS_HOST, and for plain MQTT only on MQTT_HOST", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-tls-host-"));
    const made = await selfSignedCert(dir);
    // 127.0.0.2 is loopback too on Linux, so two bind addresses need no network setup.
    const h = await createGatewayHarness({ MQTTS_PORT: "0", MQTTS_HOST: "127.0.0.2", TLS_CERT_FILE: made.certFile, TLS_KEY_FILE: made.keyFile });
    try {
      const tlsPort = h.gateway.mqttsPort()!;
      expect(await tcpReachable("127.0.0.2", tlsPort)).toBe(true);
      expect(await tcpReachable("127.0.0.1", tlsPort)).toBe(false);
      expect(await tcpReachable("127.0.0.2", h.gateway.mqttPort())).toBe(false);
    } finally {
      await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function tcpReachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, host);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}
