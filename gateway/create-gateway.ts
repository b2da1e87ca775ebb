import { join } from "node:path";
import { Aedes } from "aedes";
import { systemClock, type Clock } from "../platform/clock.ts";
import type { EventBus } from "../platform/event-bus.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import { createRegistry } from "../platform/metrics.ts";
import { opsRoutes } from "../platform/ops-routes.ts";
import { RateLimiter } from "../platform/rate-limit.ts";
import { serveHttp, type HttpServerHandle } from "../platform/serve-http.ts";
import { throttledWarning } from "../platform/throttled-log.ts";
import { DEFAULT_TOPICS, type TopicNames } from "../protocol/index.ts";
import { createAuthenticate } from "./broker/authenticate.ts";
import { createAuthorizePublish } from "./broker/authorize-publish.ts";
import { createAuthorizeSubscribe } from "./broker/authorize-subscribe.ts";
import { listenMqtt, type MqttListeners } from "./broker/listeners.ts";
import { startBusSubscriptions, type BusSubscriptions } from "../platform/bus-subscriptions.ts";
import { startCommandRouter } from "./command-router.ts";
import { CommandDelivery } from "./commands/command-delivery.ts";
import { attachMqttCommands } from "./commands/mqtt-command-adapter.ts";
import { connectionBudget } from "./connection-budget.ts";
import { IdMaps } from "./ocpp/id-maps.ts";
import { listenOcpp, type OcppListeners } from "./ocpp/listener.ts";
import type { OcppContext } from "./ocpp/context.ts";
import { CommandStore } from "./commands/command-store.ts";
import type { GatewayConfig } from "./config.ts";
import { CredentialCache } from "./credentials/credential-cache.ts";
import { Forwarder } from "./forwarder.ts";
import { createHealthPoster } from "./health-http.ts";
import { startHealthPublisher } from "./health-publisher.ts";
import { deadLetterLimit } from "./ingest/dead-letter-limit.ts";
import { createDeadLetterIngest, createIngest } from "./ingest/ingest.ts";
import { createGatewayMetrics } from "./metrics.ts";
import { trackPresence } from "./presence.ts";
import type { DurableQueue } from "./queue/durable-queue.ts";
import { openFileQueue } from "./queue/file-queue.ts";

export interface GatewayOptions {
  config: GatewayConfig;
  bus: EventBus;
  clock?: Clock;
  log?: Logger;
  topics?: TopicNames;
  /** Defaults to the disk queue under DATA_DIR/gateway/queue. */
  queue?: DurableQueue;
}

export interface Gateway {
  start(): Promise<void>;
  /** Graceful: stop accepting chargers, drain what the bus will take, keep the rest on disk. */
  stop(): Promise<void>;
  mqttPort(): number;
  /** The MQTTS port, when MQTTS_PORT is set. */
  mqttsPort(): number | undefined;
  /** The OCPP 1.6J (ws://) port. */
  ocppPort(): number;
  /** The wss:// port, when OCPPS_PORT is set. */
  ocppsPort(): number | undefined;
  httpPort(): number | undefined;
  queue: DurableQueue;
  credentials: CredentialCache;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, bus } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger("gateway");
  const topics = options.topics ?? DEFAULT_TOPICS;
  const dir = join(config.DATA_DIR, "gateway");
  const registry = createRegistry("gateway");
  const metrics = createGatewayMetrics(registry);
  const overLimitWarning = throttledWarning(log, "MQTT connection over MQTT_MAX_CONNECTIONS closed");
  // A flood of bad upgrades must not flood the log: one line per 10 s, every refusal still counted.
  const ocppRefusedWarning = throttledWarning(log, "OCPP connection refused");
  const deadLetterWarning = throttledWarning(log, "Charger over DEAD_LETTERS_PER_MINUTE; malformed messages counted, not queued");
  const queue =
    options.queue ??
    (await openFileQueue({
      dir: join(dir, "queue"),
      maxBytes: config.QUEUE_MAX_BYTES,
      lockWaitMs: config.QUEUE_LOCK_WAIT_SECONDS * 1000,
      clock,
      onWarning: (message, details) => log.warn(details ?? {}, message),
      onFsync: (ms, _entries, kind) => metrics.fsync.observe({ kind }, ms / 1000),
    }));
  const credentials = await CredentialCache.open(join(dir, "credentials.json"));
  const commandStore = await CommandStore.open(join(dir, "commands.jsonl"));
  const idMaps = await IdMaps.open(join(dir, "ocpp-ids.jsonl"), clock.now());
  const budget = connectionBudget(config.MQTT_MAX_CONNECTIONS);
  const perAddress = new RateLimiter({ perMinute: config.MQTT_CONNECT_RATE_PER_MINUTE, clock });
  const failures = new RateLimiter({ perMinute: config.MQTT_AUTH_FAILURES_PER_MINUTE, clock });
  const ingestDeps = {
    queue,
    gatewayId: config.GATEWAY_ID,
    clock,
    maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
    maxRecordBytes: config.FORWARD_RECORD_MAX_BYTES,
    admitDeadLetter: deadLetterLimit(config.DEAD_LETTERS_PER_MINUTE, clock).admit,
    onAccepted: (type: string, ms: number) => {
      metrics.messagesIn.inc({ type });
      metrics.pubackLatency.observe(ms / 1000);
    },
    onInvalid: (cpId: string, reason: string) => {
      metrics.invalid.inc({ reason: reason.split(":")[0]!.slice(0, 60) });
      log.warn({ cpId, reason: reason.slice(0, 200) }, "Malformed charger message dead-lettered");
    },
    onDeadLetterLimited: (cpId: string, reason: string) => {
      metrics.deadLettersLimited.inc();
      deadLetterWarning.note({ cpId, reason: reason.slice(0, 200), limit: config.DEAD_LETTERS_PER_MINUTE });
    },
  };
  const ingest = createIngest(ingestDeps);

  const broker = await Aedes.createBroker({
    id: config.GATEWAY_ID,
    authenticate: createAuthenticate({
      credentials,
      perAddress,
      failures,
      onRefused: (cpId, reason, address) => {
        metrics.refused.inc({ what: reason.startsWith("rate_limited") ? "connect_rate_limited" : "connect" });
        log.warn({ cpId, reason, address }, "Connection refused");
      },
    }),
    authorizePublish: createAuthorizePublish({
      ingest,
      onRefused: (cpId, topic) => {
        metrics.refused.inc({ what: "publish" });
        log.warn({ cpId, topic }, "Publish outside the charger's own topics refused; disconnecting");
      },
    }),
    authorizeSubscribe: createAuthorizeSubscribe((cpId, topic) => {
      metrics.refused.inc({ what: "subscribe" });
      log.warn({ cpId, topic }, "Subscription outside the charger's own topics refused");
    }),
  });
  const delivery = new CommandDelivery({
    store: commandStore,
    queue,
    gatewayId: config.GATEWAY_ID,
    clock,
    log,
    ttlMs: config.COMMAND_TTL_SECONDS * 1000,
    onDelivered: (type) => metrics.commandsDelivered.inc({ type }),
    onExpired: (type) => metrics.commandsExpired.inc({ type }),
  });
  attachMqttCommands(broker, delivery, log);
  const ocppCtx: OcppContext = {
    ingest,
    deadLetter: createDeadLetterIngest(ingestDeps),
    maps: idMaps,
    credentials,
    clock,
    log,
    heartbeatSeconds: config.OCPP_HEARTBEAT_SECONDS,
    faults: new Set(),
    onConnector: () => {},
  };
  trackPresence({
    broker,
    queue,
    gatewayId: config.GATEWAY_ID,
    clock,
    onChange: (n) => metrics.connected.set(n),
    onTakeover: (cpId) => {
      metrics.takeovers.inc();
      log.warn({ cpId }, "Session taken over by a new connection with the same client id");
    },
  });

  const forwarder = new Forwarder({
    queue,
    bus,
    topics,
    log,
    limits: { maxBatchBytes: config.FORWARD_BATCH_MAX_BYTES, maxRecordBytes: config.FORWARD_RECORD_MAX_BYTES },
    now: () => clock.now(),
    onForwarded: (n) => metrics.messagesOut.inc(n),
    onPublishError: () => metrics.publishErrors.inc(),
    onRefused: (code, logical) => metrics.busRefused.inc({ code, topic: logical }),
    onDropped: (code) => metrics.busDropped.inc({ code }),
  });

  const refreshGauges = () => {
    const s = queue.stats();
    metrics.queueDepth.set(s.depth);
    metrics.queueBytes.set(s.bytes);
    metrics.queueOldestAge.set(s.oldestAgeMs / 1000);
    metrics.queueBlocked.set(s.blockedAppends);
    metrics.busReconnects.set(bus.health().reconnects);
  };
  const ops = opsRoutes({
    registry,
    readiness: [{ name: "bus", check: () => bus.health().state === "connected" }],
    details: () => ({ gatewayId: config.GATEWAY_ID, queue: queue.stats(), bus: bus.health(), chargers: broker.connectedClients + (ocpp?.connected() ?? 0), chargersByTransport: { mqtt: broker.connectedClients, ocpp: ocpp?.connected() ?? 0 }, pendingCommands: commandStore.size, subscriptions: subscriptions?.states() ?? {} }),
  });
  ops.use("/metrics", async (_c, next) => {
    refreshGauges();
    await next();
  });

  /**
   * A revoked charger (decommissioned, or its controller stolen) loses its live session too, not
   * only its next connection. A rotated secret only locks the old one out of the next connect: the
   * charger keeps charging until it reconnects with the secret it was given.
   */
  function closeRevoked(cpId: string): void {
    // aedes keeps its authenticated clients by id; its types do not declare the map.
    if (ocpp?.closeRevoked(cpId)) {
      metrics.refused.inc({ what: "revoked" });
      log.warn({ cpId, transport: "ocpp1.6" }, "Charger credentials revoked; its connection is closed");
      return;
    }
    const client = (broker as unknown as { clients: Record<string, { close(): void } | undefined> }).clients[cpId];
    if (!client) return;
    metrics.refused.inc({ what: "revoked" });
    log.warn({ cpId }, "Charger credentials revoked; its connection is closed");
    client.close();
  }

  let listeners: MqttListeners | undefined;
  let ocpp: OcppListeners | undefined;
  let http: HttpServerHandle | undefined;
  let subscriptions: BusSubscriptions | undefined;
  let health: { stop(): Promise<void> } | undefined;

  const mqttPort = () => listeners?.port() ?? config.MQTT_PORT;

  return {
    queue,
    credentials,
    mqttPort,
    mqttsPort: () => listeners?.tlsPort(),
    ocppPort: () => ocpp?.port() ?? config.OCPP_PORT,
    ocppsPort: () => ocpp?.tlsPort(),
    httpPort: () => http?.port,
    async start() {
      forwarder.start();
      delivery.start();
      health = startHealthPublisher({
        bus,
        topic: topics.gatewayHealth,
        gatewayId: config.GATEWAY_ID,
        intervalMs: config.GATEWAY_HEALTH_INTERVAL_SECONDS * 1000,
        clock,
        log,
        queueStats: () => queue.stats(),
        connectedByTransport: () => ({ mqtt: broker.connectedClients, ocpp: ocpp?.connected() ?? 0 }),
        http: config.CENTRAL_URL && config.GATEWAY_TOKEN
          ? createHealthPoster({
            centralUrl: config.CENTRAL_URL, token: config.GATEWAY_TOKEN, gatewayId: config.GATEWAY_ID, log,
            timeoutMs: config.GATEWAY_HEALTH_INTERVAL_SECONDS * 1000, onOutcome: (outcome) => metrics.healthHttp.inc({ outcome }),
          })
          : undefined,
      });
      subscriptions = startBusSubscriptions(
        {
          credentials: () =>
            bus.subscribe(topics.credentials, { groupId: `chargebridge-gateway-${config.GATEWAY_ID}-credentials`, fromBeginning: true }, async (r) => {
              const record = credentials.apply(r.value);
              if (!record) return void log.warn({ offset: r.offset }, "Invalid credential record skipped");
              if (record.hash === null) closeRevoked(record.cpId);
            }),
          commands: () =>
            startCommandRouter({
              bus,
              topics,
              gatewayId: config.GATEWAY_ID,
              log,
              holdsSession: (cpId) => delivery.holdsSession(cpId),
              deliver: (cpId, type, payload) => delivery.accept(cpId, type, payload),
            }),
        },
        log,
      );
      listeners = await listenMqtt({
        handle: (socket) => broker.handle(socket),
        host: config.MQTT_HOST,
        port: config.MQTT_PORT,
        tls:
          config.MQTTS_PORT === undefined
            ? undefined
            : { port: config.MQTTS_PORT, host: config.MQTTS_HOST, certFile: config.TLS_CERT_FILE!, keyFile: config.TLS_KEY_FILE! },
        maxConnections: config.MQTT_MAX_CONNECTIONS,
        budget,
        onOverLimit: (address) => {
          metrics.refused.inc({ what: "connection_limit" });
          overLimitWarning.note({ address, limit: config.MQTT_MAX_CONNECTIONS });
        },
        maxPacketBytes: config.MQTT_MAX_PACKET_BYTES,
        onOversize: (address, bytes) => {
          metrics.refused.inc({ what: "packet_too_large" });
          log.warn({ address, bytes, limit: config.MQTT_MAX_PACKET_BYTES }, "MQTT packet over the size limit; connection closed");
        },
      });
      ocpp = await listenOcpp({
        ctx: ocppCtx,
        delivery,
        admission: { credentials, perAddress, failures },
        queue,
        gatewayId: config.GATEWAY_ID,
        clock,
        host: config.OCPP_HOST ?? config.MQTT_HOST,
        port: config.OCPP_PORT,
        tls: config.OCPPS_PORT === undefined ? undefined : { port: config.OCPPS_PORT, certFile: config.TLS_CERT_FILE!, keyFile: config.TLS_KEY_FILE! },
        budget,
        maxFrameBytes: config.MQTT_MAX_PACKET_BYTES,
        callTimeoutMs: config.OCPP_CALL_TIMEOUT_SECONDS * 1000,
        metrics: {
          connected: (n) => metrics.ocppConnections.set(n),
          call: (action) => metrics.ocppCalls.inc({ action }),
          callError: (code) => metrics.ocppCallErrors.inc({ code }),
          commandAnswer: (action, status) => metrics.ocppCommandAnswers.inc({ action, status }),
          refused: (what, reason, cpId, address) => {
            metrics.refused.inc({ what });
            if (what === "connection_limit") overLimitWarning.note({ address, limit: config.MQTT_MAX_CONNECTIONS, transport: "ocpp1.6" });
            else ocppRefusedWarning.note({ cpId, reason, address, transport: "ocpp1.6" });
          },
          takeover: (cpId) => {
            metrics.takeovers.inc();
            log.warn({ cpId, transport: "ocpp1.6" }, "OCPP connection replaced by a new one for the same cpId");
          },
        },
      });
      http = await serveHttp(ops, config.GATEWAY_HTTP_PORT, undefined, "GATEWAY_HTTP_PORT");
      log.info({ mqttPort: mqttPort(), mqttsPort: listeners.tlsPort(), ocppPort: ocpp.port(), ocppsPort: ocpp.tlsPort(), httpPort: http.port, gatewayId: config.GATEWAY_ID, bus: bus.kind }, "Gateway started");
    },
    async stop() {
      // Stop accepting first; the listener's close completes once aedes has ended the connections.
      const listenerClosed = listeners?.close() ?? Promise.resolve();
      await ocpp?.close();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await listenerClosed;
      delivery.stop();
      await health?.stop();
      await forwarder.stop();
      await subscriptions?.close();
      await commandStore.close();
      await idMaps.close();
      await queue.close();
      await credentials.flush();
      await http?.close();
      log.info({ left: queue.stats().depth }, "Gateway stopped");
    },
  };
}

