import type { EventBus, Subscription } from "../../platform/event-bus.ts";
import { throttledWarning } from "../../platform/throttled-log.ts";
import { gatewayHealthSchema } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import { upsertGatewayHealth } from "../store/gateway-health.ts";

/**
 * Consumes gateway health records in a consumer group of its own (a backlog of events never
 * delays health, nor health events) and keeps the last one per gateway. The table's trigger
 * logs the change, so every instance's stream pushes it. A malformed record is skipped with a
 * throttled warning: health is advisory, a bad one must not block the partition.
 */
export async function startGatewayHealthConsumer(ctx: CentralContext, bus: EventBus): Promise<Subscription> {
  const invalid = throttledWarning(ctx.log, "Invalid gateway health record skipped");
  const groupId = `${ctx.config.CENTRAL_GROUP_ID}-gateway-health`;
  return bus.subscribe(ctx.topics.gatewayHealth, { groupId }, async (record) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(record.value);
    } catch {
      return invalid.note({ offset: record.offset, reason: "not JSON" });
    }
    const result = gatewayHealthSchema.safeParse(parsed);
    if (!result.success) return invalid.note({ offset: record.offset, reason: result.error.issues[0]?.message?.slice(0, 200) });
    await upsertGatewayHealth(ctx.db, result.data, new Date(ctx.clock.now()));
  });
}
