import type { Aedes } from "aedes";
import type { EventBus, Subscription } from "../platform/event-bus.ts";
import type { Logger } from "../platform/logger.ts";
import { commandRecordSchema, decodeDownstream, downTopic, type TopicNames } from "../protocol/index.ts";

export interface CommandRouterDeps {
  bus: EventBus;
  broker: Aedes;
  topics: TopicNames;
  gatewayId: string;
  log: Logger;
  /** Whether this gateway holds the charger's session; other gateways' chargers are skipped. */
  holdsSession(cpId: string): boolean;
  onDelivered(type: string): void;
}

/**
 * Every gateway reads the whole commands topic in its own consumer group and hands each command
 * to the charger's MQTT session at QoS 1. aedes queues it for a persistent session that is
 * offline and sends it on reconnect.
 */
export async function startCommandRouter(deps: CommandRouterDeps): Promise<Subscription> {
  const groupId = `chargebridge-gateway-${deps.gatewayId}`;
  return deps.bus.subscribe(deps.topics.commands, { groupId }, async (record) => {
    let json: unknown;
    try {
      json = JSON.parse(record.value);
    } catch {
      deps.log.warn({ offset: record.offset }, "Command record is not JSON; skipped");
      return;
    }
    const parsed = commandRecordSchema.safeParse(json);
    const decoded = parsed.success ? decodeDownstream(parsed.data.type, JSON.stringify(parsed.data.payload)) : null;
    if (!parsed.success || !decoded?.ok) {
      deps.log.warn({ offset: record.offset, reason: decoded && !decoded.ok ? decoded.reason : "bad record" }, "Invalid command skipped");
      return;
    }
    const { cpId, type } = parsed.data;
    if (!deps.holdsSession(cpId)) return;
    await new Promise<void>((resolve, reject) => {
      deps.broker.publish(
        {
          cmd: "publish",
          topic: downTopic(cpId, type),
          payload: Buffer.from(JSON.stringify(decoded.value.payload)),
          qos: 1,
          retain: false,
          dup: false,
        },
        (error?: Error) => (error ? reject(error) : resolve()),
      );
    });
    deps.onDelivered(type);
  });
}
