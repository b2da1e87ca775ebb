/** Topic names of one test run, so runs against a long-lived broker never see each other. */
export function runTopics(prefix: string) {
  return {
    KAFKA_TOPIC_EVENTS: `${prefix}.events`,
    KAFKA_TOPIC_COMMANDS: `${prefix}.commands`,
    KAFKA_TOPIC_DLQ: `${prefix}.dlq`,
    KAFKA_TOPIC_CREDENTIALS: `${prefix}.credentials`,
    KAFKA_TOPIC_GATEWAY_HEALTH: `${prefix}.gateway-health`,
  };
}
