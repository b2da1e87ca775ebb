import { DEFAULT_TOPICS, type TopicNames } from "../protocol/index.ts";

/**
 * Bus topic names, overridable per deployment (e.g. one Kafka cluster shared by two networks):
 * KAFKA_TOPIC_EVENTS, KAFKA_TOPIC_COMMANDS, KAFKA_TOPIC_DLQ, KAFKA_TOPIC_CREDENTIALS.
 */
export function loadTopicNames(env: Record<string, string | undefined>): TopicNames {
  const pick = (name: string | undefined, fallback: string) => {
    if (!name) return fallback;
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(name)) throw new Error(`Invalid configuration: topic name '${name}'`);
    return name;
  };
  return {
    events: pick(env.KAFKA_TOPIC_EVENTS, DEFAULT_TOPICS.events),
    commands: pick(env.KAFKA_TOPIC_COMMANDS, DEFAULT_TOPICS.commands),
    deadLetters: pick(env.KAFKA_TOPIC_DLQ, DEFAULT_TOPICS.deadLetters),
    credentials: pick(env.KAFKA_TOPIC_CREDENTIALS, DEFAULT_TOPICS.credentials),
  };
}
