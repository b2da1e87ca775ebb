import type { EventBus, Subscription } from "../platform/event-bus.ts";
import type { Logger } from "../platform/logger.ts";
import { commandRecordSchema, decodeDownstream, type TopicNames } from "../protocol/index.ts";

export interface CommandRouterDeps {
  bus: EventBus;
  topics: TopicNames;
  gatewayId: string;
  log: Logger;
  /** Whether this gateway holds the charger's session; other gateways' chargers are skipped. */
  holdsSession(cpId: string): boolean;
  /** Stores the command durably for its charger; the bus offset is committed after it resolves. */
  deliver(cpId: string, type: string, payload: { id: string } & Record<string, unknown>): Promise<void>;
}

/**
 * Every gateway reads the whole commands topic in its own consumer group and keeps the commands
 * for the chargers whose sessions it holds; other gateways' chargers are skipped.
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
    await deps.deliver(cpId, type, decoded.value.payload as { id: string } & Record<string, unknown>);
  });
}
