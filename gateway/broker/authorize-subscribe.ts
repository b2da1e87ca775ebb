import type { Client, Subscription } from "aedes";
import { downFilter, parseTopic } from "../../protocol/index.ts";

/**
 * A charger may subscribe only to its own command topics: `chargebridge/v1/{cpId}/down/#` or one
 * exact down topic. Anything else, wildcards included, gets SUBACK failure 0x80
 * (MQTT-3.9.3, return code 128) without dropping the connection.
 */
export function createAuthorizeSubscribe(onRefused: (cpId: string, topic: string) => void) {
  return (client: Client, sub: Subscription, done: (error: Error | null, sub?: Subscription | null) => void): void => {
    const topic = sub.topic;
    const parsed = parseTopic(topic);
    const own = topic === downFilter(client.id) || (parsed?.direction === "down" && parsed.cpId === client.id);
    if (!own) {
      onRefused(client.id, topic);
      return done(null, null);
    }
    // QoS 1 at most: commands are at-least-once, and QoS 2 would add state for nothing.
    done(null, { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 });
  };
}
