/** A gateway as its own process: `npm run gateway` on Node, `deno task gateway` on Deno. */
import { createBus } from "../platform/create-bus.ts";
import { kafkaClientSettings } from "../platform/kafka-settings.ts";
import { createLogger } from "../platform/logger.ts";
import { onShutdown } from "../platform/shutdown.ts";
import { loadTopicNames } from "../platform/topic-config.ts";
import { loadGatewayConfig } from "./config.ts";
import { createGateway } from "./create-gateway.ts";
import { runMain } from "../platform/run-main.ts";

await runMain("gateway", async () => {
  const log = createLogger("gateway");
  const config = loadGatewayConfig(process.env);
  const topics = loadTopicNames(process.env);
  const bus = await createBus({ compactedTopics: [topics.credentials], kafkaBrokers: config.KAFKA_BROKERS, kafkaSettings: kafkaClientSettings(config), clientId: `chargebridge-${config.GATEWAY_ID}`, log });
  const gateway = await createGateway({ config, bus, log, topics });
  await gateway.start();
  // Which runtime runs it is the first question about an edge device's behaviour; say it once.
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  const runtime = deno ? `deno ${deno.version.deno}` : `node ${process.version}`;
  log.info(
    { mqttUrl: `mqtt://127.0.0.1:${gateway.mqttPort()}`, ocppUrl: `ws://127.0.0.1:${gateway.ocppPort()}/ocpp/{cpId}`, httpUrl: `http://127.0.0.1:${gateway.httpPort()}`, gatewayId: config.GATEWAY_ID, runtime },
    "Gateway is running",
  );
  onShutdown(log, async () => {
    await gateway.stop();
    await bus.close();
  });
});
