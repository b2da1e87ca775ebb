import { DEFAULT_TOPICS, type TopicNames } from "../protocol/index.ts";
import { StartupError } from "./startup-error.ts";

/**
 * Bus topic names, overridable per deployment (e.g. one Kafka cluster shared by two networks):
 * KAFKA_TOPIC_EVENTS, KAFKA_TOPIC_COMMANDS, KAFKA_TOPIC_DLQ, KAFKA_TOPIC_CREDENTIALS, KAFKA_TOPIC_GATEWAY_HEALTH.
 */
export function loadTopicNames(env: Record<string, string | undefined>): TopicNames {
  const pick = (name: string | undefined, fallback: string, setting: string) => {
    if (!name) return fallback;
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(name)) throw new StartupError("invalid_config", `Invalid configuration: ${setting}: topic name '${name}': use 1-249 of A-Z a-z 0-9 . _ -`);
    return name;
  };
  return {
    events: pick(env.KAFKA_TOPIC_EVENTS, DEFAULT_TOPICS.events, "KAFKA_TOPIC_EVENTS"),
    commands: pick(env.KAFKA_TOPIC_COMMANDS, DEFAULT_TOPICS.commands, "KAFKA_TOPIC_COMMANDS"),
    deadLetters: pick(env.KAFKA_TOPIC_DLQ, DEFAULT_TOPICS.deadLetters, "KAFKA_TOPIC_DLQ"),
    credentials: pick(env.KAFKA_TOPIC_CREDENTIALS, DEFAULT_TOPICS.credentials, "KAFKA_TOPIC_CREDENTIALS"),
    gatewayHealth: pick(env.KAFKA_TOPIC_GATEWAY_HEALTH, DEFAULT_TOPICS.gatewayHealth, "KAFKA_TOPIC_GATEWAY_HEALTH"),
  };
}
