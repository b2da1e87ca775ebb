import { readFileSync } from "node:fs";
import type { Clock } from "../platform/clock.ts";
import type { EventBus } from "../platform/event-bus.ts";
import type { Logger } from "../platform/logger.ts";
import type { GatewayHealth } from "../protocol/index.ts";
import type { HealthPoster } from "./health-http.ts";
import type { QueueStats } from "./queue/durable-queue.ts";

export interface HealthPublisherOptions {
  bus: EventBus;
  topic: string;
  gatewayId: string;
  intervalMs: number;
  clock: Clock;
  log: Logger;
  queueStats: () => QueueStats;
  /**
   * Connected chargers by transport. The gateway reports `mqtt`; another transport (OCPP) adds
   * its own count through create-gateway's `transports` option.
   */
  connectedByTransport: () => Record<string, number>;
  version?: string;
  onPublished?: () => void;
  onSkipped?: (why: "in_flight" | "failed") => void;
  /** The HTTP side channel to Central (CENTRAL_URL), used only while Kafka cannot carry the record. */
  http?: HealthPoster;
}

/** The gateway's package version (Node and Deno both read it next to the code). */
export function gatewayVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

export function healthRecord(o: HealthPublisherOptions, version: string): GatewayHealth {
  const q = o.queueStats();
  const link = o.bus.health();
  return {
    kind: "gateway_health",
    gatewayId: o.gatewayId,
    version,
    queue: { depth: q.depth, bytes: q.bytes, oldestAgeMs: Math.max(0, Math.round(q.oldestAgeMs)) },
    kafka: { state: link.state, reconnects: link.reconnects },
    connected: o.connectedByTransport(),
    at: new Date(o.clock.now()).toISOString(),
  };
}

/**
 * Publishes a health record (protocol/gateway-health.ts) every `intervalMs` on its own timer,
 * apart from the forwarder: it never waits in the forwarder's path, one publish at most is in
 * flight, and a publish that fails or outlives its interval is abandoned and counted, never
 * retried (the next record replaces it anyway). Central shows a gateway whose records stop as stale.
 *
 * With `http`, the same record also goes to Central's REST API whenever the Kafka link is not
 * connected or the last Kafka publish of a record did not succeed (or is still unanswered), so the board sees the queue
 * rise during an outage. Only then: in normal running Kafka is the one path, and Central's API
 * load does not grow with gateways × interval. Either way the POST runs beside the Kafka publish,
 * never after it, so a publish hanging on a dead broker cannot hold it up.
 */
export function startHealthPublisher(o: HealthPublisherOptions): { stop(): Promise<void> } {
  const version = o.version ?? gatewayVersion();
  let inFlight: Promise<void> | undefined;
  let lastPublishOk = false;
  let stopped = false;
  const abortAll = new AbortController();

  const publish = () => {
    if (stopped) return;
    const record = healthRecord(o, version);
    // A publish still unanswered a whole interval later counts as not getting through.
    const kafkaCarries = lastPublishOk && !inFlight && o.bus.health().state === "connected";
    if (o.http && !kafkaCarries) o.http.post(record, abortAll.signal);
    if (inFlight) return void o.onSkipped?.("in_flight");
    const signal = AbortSignal.any([abortAll.signal, AbortSignal.timeout(o.intervalMs)]);
    inFlight = o.bus
      .publish(o.topic, [{ key: o.gatewayId, value: JSON.stringify(record) }], { signal })
      .then(
        () => {
          lastPublishOk = true;
          o.onPublished?.();
        },
        (error: unknown) => {
          lastPublishOk = false;
          o.onSkipped?.("failed");
          o.log.debug({ err: error }, "Gateway health publish skipped");
        },
      )
      .finally(() => (inFlight = undefined));
  };
  const timer = setInterval(publish, o.intervalMs);
  timer.unref?.();
  publish();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      abortAll.abort();
      await Promise.all([inFlight, o.http?.stop()]);
    },
  };
}
