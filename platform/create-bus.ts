import type { EventBus } from "./event-bus.ts";
import { InProcessBus, type InProcessHub } from "./in-process-bus.ts";
import type { KafkaClientSettings } from "./kafka-settings.ts";
import type { Logger } from "./logger.ts";

export interface CreateBusOptions {
  /** Comma-separated host:port list; unset means the in-process bus. */
  kafkaBrokers?: string;
  clientId: string;
  log: Logger;
  /** For the in-process bus: share topic logs between components of one process. */
  hub?: InProcessHub;
  /** Topics to create compacted on Kafka (keep the latest record per key), e.g. credentials. */
  compactedTopics?: string[];
  /** TLS and SASL for Kafka (see kafka-settings.ts); ignored by the in-process bus. */
  kafkaSettings?: KafkaClientSettings;
}

/** KAFKA_BROKERS decides the bus; the rest of the code sees only EventBus. */
export async function createBus(options: CreateBusOptions): Promise<EventBus> {
  if (!options.kafkaBrokers) {
    return new InProcessBus({
      hub: options.hub,
      awaitConsumers: true,
      onHandlerError: (error, record) =>
        options.log.warn({ err: error, topic: record.topic, offset: record.offset }, "Bus handler failed; redelivering"),
    });
  }
  // Loaded only on the production path, so the embedded default never touches kafkajs.
  const { createKafkaBus } = await import("./kafka/kafka-bus.ts");
  const brokers = options.kafkaBrokers.split(",").map((b) => b.trim()).filter(Boolean);
  const topicConfigs = Object.fromEntries((options.compactedTopics ?? []).map((t) => [t, { "cleanup.policy": "compact" }]));
  return createKafkaBus({ brokers, clientId: options.clientId, logger: options.log, topicConfigs, ...options.kafkaSettings });
}
