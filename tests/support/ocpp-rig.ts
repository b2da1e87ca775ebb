import { createServer, connect, type Server, type Socket } from "node:net";
import { apiClient, type ApiCall } from "./api-client.ts";
import { FaultRig, freePort } from "./fault-rig.ts";
import { restartKafka } from "./kafka.ts";
import { createTestDatabase } from "./postgres-database.ts";
import { startProcess, type RunningProcess } from "./processes.ts";
import { waitFor } from "./wait.ts";

export const OCPP_OPERATOR = "ocpp-e2e-operator-token-0123456789";

/**
 * Central on PostgreSQL and a gateway listening for OCPP-J, both real processes, on a Kafka
 * broker of the rig's own (so a test can SIGKILL it), with the gateway on fixed ports so it can
 * be killed and restarted where the chargers expect it.
 */
export class OcppRig extends FaultRig {
  central: RunningProcess | undefined;
  api!: ApiCall;
  apiUrl = "";
  ocppPort = 0;
  private database: { url: string; drop(): Promise<void> } | undefined;

  get ocppUrl(): string {
    return `ws://127.0.0.1:${this.ocppPort}/ocpp`;
  }

  async up(ttlSeconds: number, gatewayEnv: Record<string, string> = {}): Promise<void> {
    await restartKafka(this.kafka);
    this.database = await createTestDatabase("ocpp");
    this.central = startProcess(
      "central/main.ts",
      {
        ...this.topics,
        KAFKA_BROKERS: this.brokers,
        DATABASE_URL: this.database.url,
        HTTP_PORT: "0",
        OPERATOR_TOKEN: OCPP_OPERATOR,
        DRIVER_RATE_PER_MINUTE: "0",
        RESERVATION_TTL_SECONDS: String(ttlSeconds),
        CENTRAL_GROUP_ID: `ocpp-${this.run}`,
      },
      "central",
    );
    await this.startOcppGateway(gatewayEnv);
    const ready = await this.central.waitForLog((l) => l.msg === "Central is running", 120_000, "ready");
    this.apiUrl = ready.apiUrl as string;
    this.api = apiClient(this.apiUrl);
  }

  /** The gateway process with its OCPP listener on a fixed port (FaultRig.startGateway pins OCPP off). */
  async startOcppGateway(env: Record<string, string> = {}): Promise<void> {
    if (!this.mqttPort) [this.mqttPort, this.httpPort, this.ocppPort] = [await freePort(), await freePort(), await freePort()];
    this.gateway = startProcess(
      "gateway/main.ts",
      {
        ...this.topics,
        OCPP_HEARTBEAT_SECONDS: "5",
        ...env,
        KAFKA_BROKERS: this.brokers,
        MQTT_PORT: String(this.mqttPort),
        OCPP_PORT: String(this.ocppPort),
        MQTT_HOST: "127.0.0.1",
        GATEWAY_HTTP_PORT: String(this.httpPort),
        DATA_DIR: this.dataDir,
        GATEWAY_ID: `ocpp-${this.run}`,
        LOG_LEVEL: "warn",
      },
      "gateway",
    );
    await waitFor(() => fetch(`http://127.0.0.1:${this.httpPort}/healthz`).then((r) => r.ok, () => false), { timeoutMs: 60_000, what: "gateway /healthz" });
  }

  /** Provisions charge points over REST; returns each one's secret. */
  async provision(...cpIds: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const cpId of cpIds) {
      const res = await this.api("POST", "/v1/charge-points", OCPP_OPERATOR, { cpId });
      if (res.status !== 201) throw new Error(`provisioning ${cpId}: ${res.status} ${JSON.stringify(res.body)}`);
      out[cpId] = res.body.mqtt.password as string;
    }
    return out;
  }

  async driver(name = "OCPP driver"): Promise<string> {
    return (await this.api("POST", "/v1/drivers", undefined, { name })).body.token as string;
  }

  async reservation(id: string, token: string): Promise<{ status: string; [k: string]: unknown }> {
    return (await this.api("GET", `/v1/reservations/${id}`, token)).body;
  }

  override async close(): Promise<void> {
    await this.central?.kill();
    await super.close();
    await this.database?.drop().catch(() => {});
  }
}

/**
 * A TCP relay between a charger and the gateway that can hold back the gateway's bytes: the
 * way to make a gateway crash land exactly between a charger's call reaching it and the
 * CALLRESULT reaching the charger. When the gateway side closes, the charger side is cut too.
 */
export class HoldingRelay {
  port = 0;
  holding = false;
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();

  constructor(private readonly targetPort: () => number) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ocpp`;
  }

  async start(): Promise<void> {
    this.server = createServer((down) => {
      const up = connect(this.targetPort(), "127.0.0.1");
      const pair: [Socket, Socket] = [down, up];
      this.pairs.add(pair);
      down.on("data", (b) => up.write(b));
      up.on("data", (b) => {
        if (!this.holding) down.write(b);
      });
      const end = () => {
        this.pairs.delete(pair);
        down.destroy();
        up.destroy();
      };
      down.on("close", end).on("error", end);
      up.on("close", end).on("error", end);
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) (a.destroy(), b.destroy());
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
