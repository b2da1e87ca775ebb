import type { Aedes, AedesPublishPacket, Client, Subscription } from "aedes";
import type { Logger } from "../../platform/logger.ts";
import { downFilter, downTopic, parseTopic } from "../../protocol/index.ts";
import type { CommandDelivery, CommandLink } from "./command-delivery.ts";

/**
 * The MQTT side of command delivery: a command is a QoS 1 publish on the charger's down topic;
 * the charger's PUBACK (or its `command_result`) takes it out of the store.
 */
export function attachMqttCommands(broker: Aedes, delivery: CommandDelivery, log: Logger): void {
  const links = new WeakMap<Client, CommandLink>();
  broker.on("clientReady", (client: Client) => {
    const link: CommandLink = {
      send: (cmd) =>
        broker.publish(
          { cmd: "publish", topic: downTopic(cmd.cpId, cmd.type), payload: Buffer.from(JSON.stringify(cmd.payload)), qos: 1, retain: false, dup: false },
          (error?: Error) => {
            if (error) log.warn({ err: error, cpId: cmd.cpId }, "Command publish failed; will retry on reconnect");
            else delivery.delivered(cmd.type);
          },
        ),
    };
    links.set(client, link);
    delivery.online(client.id, link);
  });
  broker.on("clientDisconnect", (client: Client) => {
    const link = links.get(client);
    if (link) delivery.offline(client.id, link);
  });
  // A charger without a kept session subscribes after CONNACK; publish again once it can receive.
  broker.on("subscribe", (subs: Subscription[], client: Client) => {
    if (client && subs.some((s) => s.topic === downFilter(client.id) || parseTopic(s.topic)?.cpId === client.id)) {
      delivery.redeliver(client.id);
    }
  });
  broker.on("ack", (packet) => {
    const id = jsonField((packet as { payload?: unknown } | undefined)?.payload, "id");
    if (id) void delivery.done(id);
  });
  broker.on("publish", (packet: AedesPublishPacket, client: Client | null) => {
    if (!client) return;
    const topic = parseTopic(packet.topic);
    if (topic?.direction !== "up" || topic.type !== "command_result") return;
    const answered = jsonField(packet.payload, "commandId");
    if (answered) void delivery.done(answered);
  });
}

/** One string field of a JSON payload, or undefined for anything unparseable. */
function jsonField(payload: unknown, key: string): string | undefined {
  try {
    const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload as Uint8Array);
    const value = (JSON.parse(text) as Record<string, unknown>)[key];
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}
