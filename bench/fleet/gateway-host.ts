/**
 * The gateway under test as its own process, for bench/fleet/run.ts. It is gateway/main.ts plus
 * one consumer on the same in-process bus: with the in-process bus the records never leave the
 * process, so this is the only place a consumer can see them arrive. The consumer only parses
 * meter records and stores a number, a small cost next to the broker, the queue and the forwarder.
 * (With KAFKA_BROKERS set, run.ts starts gateway/main.ts itself and consumes from Kafka instead.)
 *
 * IPC with the parent: sends {type:"ready", mqttPort}; answers {cmd:"begin"} and {cmd:"end"}
 * (the latter with {type:"latency", summary, forwarded}).
 */
import { createGateway } from "../../gateway/create-gateway.ts";
import { loadGatewayConfig } from "../../gateway/config.ts";
import { createBus } from "../../platform/create-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { loadTopicNames } from "../../platform/topic-config.ts";
import { LatencyRecorder } from "./latency.ts";

const log = createLogger("gateway", process.env.LOG_LEVEL ?? "warn");
const config = loadGatewayConfig(process.env);
const bus = await createBus({ kafkaBrokers: undefined, clientId: `chargebridge-${config.GATEWAY_ID}`, log });
const topics = loadTopicNames(process.env);
const gateway = await createGateway({ config, bus, log, topics });
await gateway.start();

const latency = new LatencyRecorder();
let forwarded = 0;
await bus.subscribe(topics.events, { groupId: "bench-consumer" }, async (record) => {
  forwarded += 1;
  // Cheap pre-filter: only meter values are timed, and only they need parsing.
  if (!record.value.includes('"type":"meter"')) return;
  const now = Date.now();
  const event = JSON.parse(record.value) as { kind: string; type?: string; payload?: { ts?: unknown } };
  if (event.kind === "up" && event.type === "meter") latency.recordTs(event.payload?.ts, now);
});

process.on("message", (m: { cmd: string }) => {
  if (m.cmd === "begin") latency.begin();
  if (m.cmd === "end") process.send!({ type: "latency", summary: latency.end(), forwarded });
});
process.on("SIGTERM", () => {
  void gateway.stop().then(() => bus.close()).finally(() => process.exit(0));
});
process.send!({ type: "ready", mqttPort: gateway.mqttPort() });
