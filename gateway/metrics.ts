import { Counter, Gauge, Histogram, type Registry } from "../platform/metrics.ts";

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

export function createGatewayMetrics(registry: Registry) {
  const registers = [registry];
  return {
    messagesIn: new Counter({ name: "chargebridge_gateway_messages_in_total", help: "Charger messages accepted into the queue", labelNames: ["type"], registers }),
    messagesOut: new Counter({ name: "chargebridge_gateway_messages_out_total", help: "Queued messages acknowledged by the bus", registers }),
    invalid: new Counter({ name: "chargebridge_gateway_messages_invalid_total", help: "Malformed charger messages, dead-lettered", labelNames: ["reason"], registers }),
    refused: new Counter({ name: "chargebridge_gateway_refused_total", help: "Publishes, subscribes and connects refused by policy", labelNames: ["what"], registers }),
    takeovers: new Counter({ name: "chargebridge_gateway_session_takeovers_total", help: "Connections that replaced a live one with the same client id", registers }),
    connected: new Gauge({ name: "chargebridge_gateway_connected_chargers", help: "Chargers connected now", registers }),
    queueDepth: new Gauge({ name: "chargebridge_gateway_queue_depth", help: "Messages waiting for the bus", registers }),
    queueBytes: new Gauge({ name: "chargebridge_gateway_queue_bytes", help: "Bytes waiting for the bus", registers }),
    queueOldestAge: new Gauge({ name: "chargebridge_gateway_queue_oldest_age_seconds", help: "Age of the oldest message waiting for the bus", registers }),
    queueBlocked: new Gauge({ name: "chargebridge_gateway_queue_blocked_appends", help: "Publishes waiting for queue space (backpressure)", registers }),
    busReconnects: new Gauge({ name: "chargebridge_gateway_bus_reconnects", help: "Times the bus connection was re-established", registers }),
    deadLettersLimited: new Counter({ name: "chargebridge_gateway_dead_letters_rate_limited_total", help: "Malformed messages over a charger's DEAD_LETTERS_PER_MINUTE: acknowledged, counted, not queued", registers }),
    busRefused: new Counter({ name: "chargebridge_gateway_bus_refused_total", help: "Records the bus refused for good, replaced by a bounded dead letter", labelNames: ["code", "topic"], registers }),
    busDropped: new Counter({ name: "chargebridge_gateway_bus_dropped_total", help: "Refused records whose dead letter was refused too: left the queue, only counted and logged", labelNames: ["code"], registers }),
    publishErrors: new Counter({ name: "chargebridge_gateway_bus_publish_errors_total", help: "Failed bus publishes (retried)", registers }),
    pubackLatency: new Histogram({
      name: "chargebridge_gateway_puback_latency_seconds",
      help: "From a charger's publish to its PUBACK (queue write and fsync)",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    fsync: new Histogram({
      name: "chargebridge_gateway_fsync_seconds",
      help: "Disk queue syncs (one per group commit), by file: log, ack cursor or directory",
      labelNames: ["kind"],
      buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    }),
    commandsDelivered: new Counter({ name: "chargebridge_gateway_commands_total", help: "Commands published to chargers (redeliveries included)", labelNames: ["type"], registers }),
    ocppConnections: new Gauge({ name: "chargebridge_gateway_ocpp_connections", help: "OCPP charge boxes connected now", registers }),
    ocppCalls: new Counter({ name: "chargebridge_gateway_ocpp_calls_total", help: "OCPP calls from charge boxes handled, by action", labelNames: ["action"], registers }),
    ocppCallErrors: new Counter({ name: "chargebridge_gateway_ocpp_callerrors_total", help: "CALLERRORs sent to charge boxes (bad frames, schema-invalid or unknown calls), by error code", labelNames: ["code"], registers }),
    ocppCommandAnswers: new Counter({ name: "chargebridge_gateway_ocpp_command_answers_total", help: "Charge boxes' answers to the gateway's calls, by action and status (unanswered: timeout or connection lost)", labelNames: ["action", "status"], registers }),
    healthHttp: new Counter({ name: "chargebridge_gateway_health_http_posts_total", help: "Health records POSTed to Central's side channel (CENTRAL_URL), by outcome: sent, failed, skipped (one still in flight)", labelNames: ["outcome"], registers }),
    commandsExpired: new Counter({ name: "chargebridge_gateway_commands_expired_total", help: "Commands reported expired because their charger did not take them in time", labelNames: ["type"], registers }),
  };
}
