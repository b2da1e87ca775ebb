import { startBusSubscriptions, type BusSubscriptions } from "../platform/bus-subscriptions.ts";
import { systemClock, type Clock } from "../platform/clock.ts";
import type { EventBus } from "../platform/event-bus.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import { createRegistry } from "../platform/metrics.ts";
import { generateSecret } from "../platform/password-hash.ts";
import { serveHttp, type HttpServerHandle } from "../platform/serve-http.ts";
import { DEFAULT_TOPICS, type TopicNames } from "../protocol/index.ts";
import { createApi } from "./api/app.ts";
import type { AuthConfig } from "./api/auth.ts";
import { CredentialPublisher } from "./commands/credential-publisher.ts";
import { OutboxPublisher } from "./commands/outbox-publisher.ts";
import type { CentralConfig } from "./config.ts";
import type { CentralContext } from "./context.ts";
import type { Db } from "./db/db.ts";
import { openDb } from "./db/open-db.ts";
import { startEventConsumer } from "./events/event-consumer.ts";
import { startGatewayHealthConsumer } from "./events/gateway-health-consumer.ts";
import { startExpirySweeper } from "./lifecycle/index.ts";
import { startRetentionJob } from "./retention/retention-job.ts";
import { createCentralMetrics } from "./metrics.ts";
import { driverTokenGeneration } from "./store/drivers.ts";
import { gatewayTokenGeneration } from "./store/gateway-tokens.ts";
import { getOrInitSetting } from "./store/settings.ts";
import { StreamHub } from "./stream/stream-hub.ts";
import { createStreamMetrics } from "./stream/stream-metrics.ts";
import { StreamTickets } from "./stream/tickets.ts";

export interface CentralOptions {
  config: CentralConfig;
  bus: EventBus;
  db?: Db;
  clock?: Clock;
  log?: Logger;
  topics?: TopicNames;
  /** This instance's name (INSTANCE_ID or `central-<pid>`); it names the outbox leases it holds. */
  instanceId?: string;
}

export interface Central {
  ctx: CentralContext;
  app: ReturnType<typeof createApi>;
  operatorToken: string;
  operatorTokenGenerated: boolean;
  /** Consumer, sweeper and publishers; the HTTP server only with `listen`. */
  start(options?: { listen?: boolean }): Promise<void>;
  port(): number | undefined;
  /** Graceful: stop taking requests, finish the work in hand, publish pending commands, close. */
  stop(): Promise<void>;
}

export async function createCentral(options: CentralOptions): Promise<Central> {
  const { config, bus } = options;
  const log = options.log ?? createLogger("central");
  const db = options.db ?? (await openDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DATABASE_POOL_SIZE, prepare: config.DATABASE_PREPARED_STATEMENTS }));
  const registry = createRegistry("central");
  const metrics = createCentralMetrics(registry);
  const tokenSecret = config.TOKEN_SECRET ?? (await getOrInitSetting(db, "token_secret", () => generateSecret(48)));
  const operatorToken = config.OPERATOR_TOKEN ?? generateSecret(24);

  let outbox: OutboxPublisher | undefined;
  const ctx: CentralContext = {
    db,
    clock: options.clock ?? systemClock,
    config,
    log,
    metrics,
    topics: options.topics ?? DEFAULT_TOPICS,
    notifyOutbox: () => outbox?.kick(),
  };
  outbox = new OutboxPublisher(ctx, bus, options.instanceId);
  const credentials = new CredentialPublisher(ctx, bus);
  let subscriptions: BusSubscriptions | undefined;
  const auth: AuthConfig = {
    operatorToken,
    tokenSecret,
    driverTokenTtlSeconds: config.DRIVER_TOKEN_TTL_SECONDS,
    now: () => ctx.clock.now(),
    tokenGeneration: (driverId) => driverTokenGeneration(ctx.db, driverId),
    gatewayTokenGeneration: (gatewayId) => gatewayTokenGeneration(ctx.db, gatewayId),
  };
  const streamMetrics = createStreamMetrics(registry);
  const staleMs = config.GATEWAY_STALE_SECONDS * 1000;
  const now = () => ctx.clock.now();
  // Started here rather than in start(): the API (and app.request in tests) can serve streams at once.
  const hub = new StreamHub({ db, log, metrics: streamMetrics, now, staleMs, pollMs: config.STREAM_POLL_MS, keepAliveMs: config.STREAM_KEEPALIVE_SECONDS * 1000 });
  await hub.start();
  const stream = {
    tickets: new StreamTickets(auth, config.STREAM_TICKET_TTL_SECONDS),
    deps: {
      db,
      hub,
      log,
      metrics: streamMetrics,
      now,
      limits: { maxClients: config.STREAM_MAX_CLIENTS, maxBufferBytes: config.STREAM_CLIENT_BUFFER_BYTES, staleMs, maxReplay: 1_000, retryMs: 2_000 },
    },
  };
  const app = createApi(
    {
      stream,
      ctx,
      auth,
      publishCredential: (cpId, hash) => credentials.publish([{ cpId, hash }]),
      readiness: [
        { name: "database", check: async () => (await db.query("SELECT 1 AS ok")).length === 1 },
        { name: "bus", check: () => bus.health().state === "connected" },
      ],
      healthDetails: () => ({ db: db.kind, bus: { state: bus.health().state }, subscriptions: subscriptions?.states() ?? {} }),
    },
    registry,
  );

  let server: HttpServerHandle | undefined;
  let sweeper: { stop(): Promise<void> } | undefined;
  let retention: { stop(): Promise<void> } | undefined;
  return {
    ctx,
    app,
    operatorToken,
    operatorTokenGenerated: config.OPERATOR_TOKEN === undefined,
    port: () => server?.port,
    async start({ listen = true } = {}) {
      if (listen) server = await serveHttp(app, config.HTTP_PORT, config.HTTP_HOST);
      outbox!.start();
      await credentials.publishSnapshot();
      sweeper = startExpirySweeper(ctx, config.EXPIRY_SWEEP_MS);
      retention = startRetentionJob(ctx);
      // The API comes up while Kafka is away; the consumer joins in the background.
      subscriptions = startBusSubscriptions(
        { events: () => startEventConsumer(ctx, bus), gatewayHealth: () => startGatewayHealthConsumer(ctx, bus) },
        log,
      );
      log.info({ port: server?.port, db: db.kind, bus: bus.kind }, "Central started");
    },
    async stop() {
      await hub.stop();
      await server?.close();
      await subscriptions?.close();
      await sweeper?.stop();
      await retention?.stop();
      await outbox!.stop();
      await credentials.stop();
      if (!options.db) await db.close();
      log.info("Central stopped");
    },
  };
}
