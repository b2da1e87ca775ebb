/** Central as its own process (production path): `npm run central`. */
import { createBus } from "../platform/create-bus.ts";
import { kafkaClientSettings } from "../platform/kafka-settings.ts";
import { createLogger } from "../platform/logger.ts";
import { onShutdown } from "../platform/shutdown.ts";
import { loadTopicNames } from "../platform/topic-config.ts";
import { loadCentralConfig } from "./config.ts";
import { createCentral } from "./create-central.ts";
import { runMain } from "../platform/run-main.ts";

await runMain("central", async () => {
  const log = createLogger("central");
  const config = loadCentralConfig(process.env);
  const instance = config.INSTANCE_ID ?? `central-${process.pid}`;
  const topics = loadTopicNames(process.env);
  const bus = await createBus({ compactedTopics: [topics.credentials], kafkaBrokers: config.KAFKA_BROKERS, kafkaSettings: kafkaClientSettings(config), clientId: `chargebridge-${instance}`, log });
  const central = await createCentral({ config, bus, log, topics, instanceId: instance });
  await central.start();
  log.info(
    {
      apiUrl: `http://127.0.0.1:${central.port()}`,
      instance,
      ...(central.operatorTokenGenerated ? { operatorToken: central.operatorToken } : {}),
    },
    "Central is running",
  );
  onShutdown(log, async () => {
    await central.stop();
    await bus.close();
  });
});
