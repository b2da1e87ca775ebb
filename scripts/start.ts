/**
 * `npm start`: Central, one gateway and SIM_CHARGERS simulated chargers in one process.
 * Without KAFKA_BROKERS and DATABASE_URL it needs nothing installed: an in-process bus and PGlite.
 */
import { join } from "node:path";
import { createCentral } from "../central/index.ts";
import { loadCentralConfig } from "../central/config.ts";
import { provisionChargers, simCpIds, startFleet, type Fleet } from "../firmware-sim/index.ts";
import { createGateway } from "../gateway/index.ts";
import { loadGatewayConfig } from "../gateway/config.ts";
import { createBus } from "../platform/create-bus.ts";
import { createInProcessHub } from "../platform/in-process-bus.ts";
import { kafkaClientSettings } from "../platform/kafka-settings.ts";
import { createLogger } from "../platform/logger.ts";
import { onShutdown } from "../platform/shutdown.ts";
import { loadTopicNames } from "../platform/topic-config.ts";
import { runMain } from "../platform/run-main.ts";
import { StartupError } from "../platform/startup-error.ts";

await runMain("chargebridge", async () => {
  const env = process.env;
  const log = createLogger("chargebridge");
  const centralConfig = loadCentralConfig(env);
  const gatewayConfig = loadGatewayConfig(env);
  const simChargers = Number(env.SIM_CHARGERS ?? 5);
  if (!Number.isInteger(simChargers) || simChargers < 0) throw new StartupError("invalid_config", "Invalid configuration: SIM_CHARGERS: expected a whole number (0 or more)");

  const topics = loadTopicNames(env);
  const hub = createInProcessHub();
  const kafkaSettings = kafkaClientSettings(centralConfig);
  const centralBus = await createBus({ kafkaBrokers: env.KAFKA_BROKERS, kafkaSettings, clientId: "chargebridge-central", log, hub, compactedTopics: [topics.credentials] });
  const gatewayBus = await createBus({ kafkaBrokers: env.KAFKA_BROKERS, kafkaSettings, clientId: `chargebridge-${gatewayConfig.GATEWAY_ID}`, log, hub, compactedTopics: [topics.credentials] });

  const central = await createCentral({ config: centralConfig, bus: centralBus, topics, log: log.child({ component: "central" }) });
  await central.start();
  const gateway = await createGateway({ config: gatewayConfig, bus: gatewayBus, topics, log: log.child({ component: "gateway" }) });
  await gateway.start();

  const apiUrl = `http://127.0.0.1:${central.port()}`;
  const mqttUrl = `mqtt://127.0.0.1:${gateway.mqttPort()}`;
  const ocppUrl = `ws://127.0.0.1:${gateway.ocppPort()}/ocpp/{cpId}`;
  let fleet: Fleet | undefined;
  if (simChargers > 0) {
    const chargers = await provisionChargers({
      apiUrl,
      operatorToken: central.operatorToken,
      cpIds: simCpIds(simChargers),
      credentialsFile: join(centralConfig.DATA_DIR, "sim", "credentials.json"),
    });
    fleet = await startFleet({ url: mqttUrl, chargers, heartbeatMs: 30_000, meterMs: Number(env.SIM_METER_MS ?? 5_000) });
  }

  log.info(
    {
      apiUrl,
      boardUrl: `${apiUrl}/board`,
      mqttUrl,
      ocppUrl,
      gatewayHttpUrl: `http://127.0.0.1:${gateway.httpPort()}`,
      operatorToken: central.operatorToken,
      simChargers,
      bus: centralBus.kind,
      database: central.ctx.db.kind,
    },
    "ChargeBridge is running",
  );
  process.stderr.write(
    [
      "",
      "ChargeBridge is running",
      // The fragment never reaches the server or its logs; the board keeps it in sessionStorage.
      `  Operator board  ${apiUrl}/board#token=${encodeURIComponent(central.operatorToken)}`,
      `  Driver app      ${apiUrl}/app`,
      `  REST API        ${apiUrl}   (OpenAPI: ${apiUrl}/openapi.json, reference: ${apiUrl}/docs)`,
      `  MQTT broker     ${mqttUrl}`,
      `  OCPP 1.6J       ${ocppUrl}   (subprotocol ocpp1.6, HTTP Basic cpId:secret)`,
      `  Gateway ops     http://127.0.0.1:${gateway.httpPort()}/healthz`,
      `  Operator token  ${central.operatorToken}${central.operatorTokenGenerated ? "   (generated; set OPERATOR_TOKEN to fix it)" : ""}`,
      `  Chargers        ${simChargers} simulated`,
      "",
    ].join("\n") + "\n",
  );

  onShutdown(log, async () => {
    await fleet?.stop();
    await gateway.stop();
    await central.stop();
    await gatewayBus.close();
    await centralBus.close();
  });
});
