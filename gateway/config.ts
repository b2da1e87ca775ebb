import { z } from "zod";
import { parseEnv } from "../platform/env-config.ts";
import { checkKafkaSettings, kafkaSettingsShape } from "../platform/kafka-settings.ts";

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

/** Gateway settings from the environment; the names are part of the operations contract. */
export const gatewayConfigSchema = z.object({
  MQTT_PORT: port.default(1883),
  MQTT_HOST: z.string().default("0.0.0.0"),
  GATEWAY_HTTP_PORT: port.default(8081),
  DATA_DIR: z.string().default("./data"),
  KAFKA_BROKERS: z.string().optional(),
  ...kafkaSettingsShape,
  GATEWAY_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default("gateway-1"),
  /** Unacknowledged bytes the disk queue may hold before chargers are backpressured. */
  QUEUE_MAX_BYTES: positiveInt.default(256 * 1024 * 1024),
  MAX_PAYLOAD_BYTES: positiveInt.default(16 * 1024),
  /** How long a command waits for an offline charger before it is reported expired. */
  COMMAND_TTL_SECONDS: positiveInt.default(300),
  /** MQTT over TLS; the listener starts only when MQTTS_PORT is set, and then needs both files. */
  MQTTS_PORT: port.optional(),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  /** Bind address of the MQTTS listener; defaults to MQTT_HOST (e.g. plain on the site LAN only). */
  MQTTS_HOST: z.string().optional(),
  /** Open MQTT connections (plain and TLS together) beyond which new ones are closed; 0: no limit. */
  MQTT_MAX_CONNECTIONS: z.coerce.number().int().nonnegative().default(10_000),
  /** Connection attempts per minute per source address (and as many at once); 0 turns it off. */
  MQTT_CONNECT_RATE_PER_MINUTE: z.coerce.number().int().nonnegative().default(60),
  /** Failed secret checks per minute per cpId before that cpId is throttled; 0 turns it off. */
  MQTT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().nonnegative().default(20),
  /** A larger MQTT packet closes the connection before it is buffered (see broker/packet-size-guard.ts). */
  MQTT_MAX_PACKET_BYTES: positiveInt.default(256 * 1024),
  /** How long a gateway waits for another process holding its queue directory before it refuses to start. */
  QUEUE_LOCK_WAIT_SECONDS: z.coerce.number().nonnegative().default(10),
  /** Largest publish to the bus (records' bytes); keep it well under the broker's message.max.bytes. */
  FORWARD_BATCH_MAX_BYTES: positiveInt.default(512 * 1024),
  /** Largest single record sent to the bus; a larger one is replaced by a bounded dead letter. */
  FORWARD_RECORD_MAX_BYTES: positiveInt.default(128 * 1024),
  /** Dead letters one charger may queue per minute; beyond, malformed messages are only counted. 0 = off. */
  DEAD_LETTERS_PER_MINUTE: z.coerce.number().int().nonnegative().default(60),
  /** OCPP 1.6J charge boxes at ws://{OCPP_HOST}:{OCPP_PORT}/ocpp/{cpId} (docs/ocpp.md). */
  OCPP_PORT: port.default(8092),
  /** Bind address of the OCPP listeners; defaults to MQTT_HOST. */
  OCPP_HOST: z.string().optional(),
  /** wss:// (OCPP security profile 2) next to ws://; needs TLS_CERT_FILE and TLS_KEY_FILE. */
  OCPPS_PORT: port.optional(),
  /** The Heartbeat interval BootNotification.conf tells a charge box (OCPP 1.6 §4.2). */
  OCPP_HEARTBEAT_SECONDS: positiveInt.default(300),
  /** How long the gateway waits for a charge box's answer to a command before it counts as unanswered. */
  OCPP_CALL_TIMEOUT_SECONDS: positiveInt.default(30),
  /** Interval of the gateway's health record to Central (gateway/health-publisher.ts). */
  GATEWAY_HEALTH_INTERVAL_SECONDS: z.coerce.number().positive().default(5),
  /** Central's REST API; when set, health records also go there over HTTP while Kafka is down (gateway/health-http.ts). */
  CENTRAL_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The gateway token an operator issued (POST /v1/gateways/{gatewayId}/token); required with CENTRAL_URL. */
  GATEWAY_TOKEN: z.string().min(1).optional(),
}).superRefine((c, ctx) => {
  checkKafkaSettings(c, ctx);
  if (c.CENTRAL_URL !== undefined && c.GATEWAY_TOKEN === undefined) {
    ctx.addIssue({ code: "custom", path: ["GATEWAY_TOKEN"], message: "is required when CENTRAL_URL is set" });
  }
  if (c.MQTTS_PORT !== undefined && (!c.TLS_CERT_FILE || !c.TLS_KEY_FILE)) {
    ctx.addIssue({ code: "custom", path: ["MQTTS_PORT"], message: "needs TLS_CERT_FILE and TLS_KEY_FILE" });
  }
  if (c.OCPPS_PORT !== undefined && (!c.TLS_CERT_FILE || !c.TLS_KEY_FILE)) {
    ctx.addIssue({ code: "custom", path: ["OCPPS_PORT"], message: "needs TLS_CERT_FILE and TLS_KEY_FILE" });
  }
  if (c.FORWARD_RECORD_MAX_BYTES > c.FORWARD_BATCH_MAX_BYTES) {
    ctx.addIssue({ code: "custom", path: ["FORWARD_RECORD_MAX_BYTES"], message: "must not exceed FORWARD_BATCH_MAX_BYTES" });
  }
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export function loadGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  return parseEnv(gatewayConfigSchema, env);
}
