import type { Kafka } from "kafkajs";
import { delay } from "../backoff.ts";
import { describeError, type BusLogger } from "./kafka-config.ts";

/** The parts of kafkajs' internal cluster and broker objects that the reaper uses. */
interface CoordinatorBroker {
  describeGroups(request: { groupIds: string[] }): Promise<{ groups: { state: string; members: { memberId: string }[] }[] }>;
  leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown>;
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<CoordinatorBroker>;
}

/** Member ids remembered per consumer at most; a rebuild loop must not grow without bound. */
const MAX_REMEMBERED = 8;
const POLL_MS = 100;

/**
 * Removes the group members a SupervisedConsumer left behind when it threw a kafkajs consumer away
 * without a clean LeaveGroup (Kafka was unreachable, so kafkajs' own leave failed).
 *
 * Why: a rebuilt kafkajs consumer joins with a new member id. A coordinator that still lists the
 * old id, e.g. one that reloaded the group from __consumer_offsets after a restart, makes the join
 * wait until the old member's session timeout (10 s) expires (Kafka protocol, JoinGroup: a
 * rebalance completes once every known member has rejoined or been evicted). Sending LeaveGroup for
 * the dead id ends that wait at once; a member unknown to the coordinator is answered with
 * UNKNOWN_MEMBER_ID, which is as good as success here.
 *
 * The leave goes out only once the group is rebalancing, i.e. our new member's JoinGroup is
 * already waiting. Leaving earlier would empty the group, and the first member of an empty group
 * waits for the broker's group.initial.rebalance.delay.ms (3 s by default) instead.
 *
 * kafkajs (pinned at 2.2.4, unmaintained) has no public LeaveGroup for another member, so this
 * reaches its cluster factory through the client's private symbol; without it (another kafkajs),
 * the reaper does nothing and the join falls back to waiting for the session timeout.
 */
export class StaleMemberReaper {
  private readonly stale: string[] = [];

  constructor(
    private readonly groupId: string,
    private readonly logger?: BusLogger,
  ) {}

  /** A member id our consumer held and may not have left with (called for every join). */
  remember(memberId: string): void {
    if (!memberId || this.stale.includes(memberId)) return;
    this.stale.push(memberId);
    if (this.stale.length > MAX_REMEMBERED) this.stale.shift();
  }

  /** The member id the current consumer holds: it is live, not stale. */
  forget(memberId: string): void {
    const i = this.stale.indexOf(memberId);
    if (i >= 0) this.stale.splice(i, 1);
  }

  get pending(): readonly string[] {
    return this.stale;
  }

  /**
   * Until `done` aborts (our member joined, the attempt failed or the bus closed): polls the
   * coordinator and, once the group is rebalancing, makes it drop every remembered member it lists.
   */
  async reap(kafka: Kafka, done: AbortSignal): Promise<void> {
    if (this.stale.length === 0) return;
    const create = clusterFactory(kafka);
    if (!create) {
      this.logger?.debug({ groupId: this.groupId }, "kafkajs offers no cluster factory; a rebuilt member waits for the old session to expire");
      return;
    }
    const cluster = create();
    try {
      while (!done.aborted && this.stale.length > 0) {
        try {
          await this.reapOnce(cluster);
        } catch (error) {
          // Coordinator still loading, broker not reachable yet...: ask again shortly.
          this.logger?.debug({ groupId: this.groupId, err: describeError(error) }, "Could not remove the consumer's old group member yet");
        }
        if (this.stale.length > 0) await delay(POLL_MS, done);
      }
    } finally {
      await cluster.disconnect().catch(() => {});
    }
  }

  private async reapOnce(cluster: InternalCluster): Promise<void> {
    await cluster.connect();
    const coordinator = await cluster.findGroupCoordinator({ groupId: this.groupId });
    const { groups } = await coordinator.describeGroups({ groupIds: [this.groupId] });
    const members = (groups[0]?.members ?? []).map((m) => m.memberId);
    // Ids the coordinator no longer lists are gone already (a clean leave, an expired session).
    for (const id of [...this.stale]) if (!members.includes(id)) this.forget(id);
    if (this.stale.length === 0) return;
    const rebalancing = groups[0]?.state !== "Stable" || members.some((id) => !this.stale.includes(id));
    if (!rebalancing) return;
    for (const memberId of [...this.stale]) {
      await coordinator.leaveGroup({ groupId: this.groupId, memberId }).catch((error: { type?: string }) => {
        if (error?.type !== "UNKNOWN_MEMBER_ID") throw error;
      });
      this.forget(memberId);
      this.logger?.info({ groupId: this.groupId, memberId }, "Removed the consumer's old group member so the rebuilt one need not wait for its session to expire");
    }
  }
}

function clusterFactory(kafka: Kafka): (() => InternalCluster) | undefined {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  const create = symbol ? (kafka as unknown as Record<symbol, unknown>)[symbol] : undefined;
  if (typeof create !== "function") return undefined;
  // The same brokers, TLS, SASL, timeouts and retry as the consumer's own cluster.
  return () => (create as (o: object) => InternalCluster)({ metadataMaxAge: 300_000, allowAutoTopicCreation: false });
}
