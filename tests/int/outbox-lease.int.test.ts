import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboxPublisher } from "../../central/commands/outbox-publisher.ts";
import { loadCentralConfig } from "../../central/config.ts";
import type { CentralContext } from "../../central/context.ts";
import type { Db } from "../../central/db/db.ts";
import { migrate } from "../../central/db/migrations.ts";
import { openPgliteDb } from "../../central/db/pglite-db.ts";
import { createCentralMetrics } from "../../central/metrics.ts";
import { enqueueCommand } from "../../central/store/commands.ts";
import { systemClock } from "../../platform/clock.ts";
import { createKafkaBus, type KafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { createRegistry } from "../../platform/metrics.ts";
import { DEFAULT_TOPICS } from "../../protocol/index.ts";
import { freePort } from "../support/fault-rig.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The outbox publisher's side of the short lease, with a real Kafka client whose broker address
 * has nothing listening (an outage): the publish waits, the live publisher keeps renewing its
 * lease, and once another instance holds the rows it abandons the publish and marks nothing.
 */
describe("outbox publisher lease while Kafka is unreachable", { timeout: 60_000 }, () => {
  let db: Db;
  let bus: KafkaBus;
  let ctx: CentralContext;
  let publisher: OutboxPublisher;
  const claims = () =>
    db.query<{ type: string; claimed_by: string | null; claimed_until: Date | null; published_at: Date | null }>(
      "SELECT type, claimed_by, claimed_until, published_at FROM commands ORDER BY seq",
    );

  beforeAll(async () => {
    db = await openPgliteDb();
    await migrate(db);
    const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    bus = createKafkaBus({ brokers: [`127.0.0.1:${await freePort()}`], clientId: "outbox-lease-test", logger: quiet, connectionTimeoutMs: 500 });
    ctx = {
      db,
      clock: systemClock,
      config: loadCentralConfig({}),
      log: createLogger("outbox-lease-test", "silent"),
      metrics: createCentralMetrics(createRegistry("outbox_lease_test", false)),
      topics: DEFAULT_TOPICS,
      notifyOutbox: () => publisher.kick(),
    };
    publisher = new OutboxPublisher(ctx, bus, "central-a");
  });
  afterAll(async () => {
    await publisher?.stop(0);
    await bus?.close();
    await db?.close();
  });

  it("renews its lease while the publish waits, and abandons the publish once another instance took the rows", async () => {
    const now = new Date();
    await enqueueCommand(db, "cp-1", "reserve", { reservationId: "r-1", expiresAt: now.toISOString() }, now);
    await enqueueCommand(db, "cp-1", "start", { reservationId: "r-1" }, now);
    publisher.start();
    const [first] = await waitFor(async () => ((await claims()).every((c) => c.claimed_by === publisher.owner) ? claims() : null), {
      what: "both commands leased by the publisher",
    });
    expect(publisher.owner).toMatch(/^central-a#/);
    // The publish is stuck on the dead broker; the lease moves on with it (renewed every second).
    const leasedUntil = first!.claimed_until!.getTime();
    await waitFor(async () => (await claims())[0]!.claimed_until!.getTime() >= leasedUntil + 2_000, {
      timeoutMs: 15_000,
      what: "the lease renewed while the publish waits",
    });

    // Another instance holds the rows now (say this one's database link stalled past the lease).
    await db.query("UPDATE commands SET claimed_by = 'central-b#0000', claimed_until = now() + interval '1 hour'");
    await waitFor(async () => (await ctx.metrics.outboxLeasesLost.get()).values[0]?.value === 1, {
      timeoutMs: 15_000,
      what: "the publisher noticing it lost its lease",
    });
    // It neither marked B's rows published nor took them back.
    expect((await claims()).map((c) => [c.type, c.claimed_by, c.published_at])).toEqual([
      ["reserve", "central-b#0000", null],
      ["start", "central-b#0000", null],
    ]);
    expect((await ctx.metrics.commandsPublished.get()).values).toEqual([]);
  });
});
