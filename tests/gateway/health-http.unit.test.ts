import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHealthPoster } from "../../gateway/health-http.ts";
import { startHealthPublisher, type HealthPublisherOptions } from "../../gateway/health-publisher.ts";
import { systemClock } from "../../platform/clock.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
import { createKafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { gatewayHealthSchema, type GatewayHealth } from "../../protocol/index.ts";
import { waitFor } from "../support/wait.ts";

const log = createLogger("test", "silent");
type Seen = { url: string; auth: string | undefined; body: unknown };

/** A real HTTP server standing in for Central: records every POST; `hang` leaves requests unanswered. */
async function startStub(mode: "ok" | "hang"): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", auth: req.headers.authorization, body: JSON.parse(text) });
      if (mode === "ok") res.writeHead(200, { "content-type": "application/json" }).end('{"stored":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const baseOptions = (bus: HealthPublisherOptions["bus"], extra: Partial<HealthPublisherOptions>): HealthPublisherOptions => ({
  bus, topic: "t.health", gatewayId: "gw-side-1", intervalMs: 100, clock: systemClock, log,
  queueStats: () => ({ depth: 7, bytes: 70, oldestAgeMs: 12 }) as never, connectedByTransport: () => ({ mqtt: 1 }), version: "test",
  ...extra,
});

describe("gateway health side channel (HTTP to Central)", () => {
  let ok: Awaited<ReturnType<typeof startStub>>;
  let hang: Awaited<ReturnType<typeof startStub>>;
  beforeAll(async () => {
    [ok, hang] = await Promise.all([startStub("ok"), startStub("hang")]);
  });
  afterAll(async () => {
    for (const s of [ok, hang]) s.server.closeAllConnections?.();
    await Promise.all([ok, hang].map((s) => new Promise((r) => s.server.close(r))));
  });

  it("POSTs every record, with the token, while Kafka is unreachable", async () => {
    ok.seen.length = 0;
    // A real Kafka client pointed at a port nobody listens on: its link never connects.
    const bus = createKafkaBus({ brokers: ["127.0.0.1:1"], clientId: "health-http-test", logger: log, publishTimeoutMs: 50 });
    const http = createHealthPoster({ centralUrl: `${ok.url}/prefix/`, token: "tok-1", gatewayId: "gw-side-1", timeoutMs: 100, log });
    const publisher = startHealthPublisher(baseOptions(bus, { http }));
    try {
      await waitFor(() => ok.seen.length >= 3, { timeoutMs: 10_000, what: "three health POSTs" });
    } finally {
      await publisher.stop();
      await bus.close();
    }
    for (const s of ok.seen) {
      expect(s.url).toBe("/prefix/v1/gateways/gw-side-1/health");
      expect(s.auth).toBe("Bearer tok-1");
      const record: GatewayHealth = gatewayHealthSchema.parse(s.body);
      expect(record).toMatchObject({ gatewayId: "gw-side-1", queue: { depth: 7 } });
      expect(record.kafka.state).not.toBe("connected");
    }
  });

  it("stops POSTing once Kafka carries the record", async () => {
    ok.seen.length = 0;
    const bus = new InProcessBus();
    let published = 0;
    const http = createHealthPoster({ centralUrl: ok.url, token: "tok-1", gatewayId: "gw-side-1", timeoutMs: 100, log });
    const publisher = startHealthPublisher(baseOptions(bus, { http, onPublished: () => void published++ }));
    await waitFor(() => published >= 5, { timeoutMs: 10_000, what: "five Kafka publishes" });
    await publisher.stop();
    await bus.close();
    // Only the first tick, before any publish had got through, went over HTTP.
    expect(ok.seen).toHaveLength(1);
  });

  it("abandons a POST Central does not answer, keeps one in flight, and returns at once", async () => {
    hang.seen.length = 0;
    const outcomes: string[] = [];
    const warned: unknown[] = [];
    const spyLog = { ...log, warn: (o: unknown) => void warned.push(o) } as unknown as typeof log;
    const http = createHealthPoster({ centralUrl: hang.url, token: "t", gatewayId: "gw-side-1", timeoutMs: 200, log: spyLog, onOutcome: (o) => void outcomes.push(o) });
    const record = gatewayHealthSchema.parse({
      kind: "gateway_health", gatewayId: "gw-side-1", version: "v", queue: { depth: 1, bytes: 1, oldestAgeMs: 0 },
      kafka: { state: "disconnected", reconnects: 0 }, connected: {}, at: new Date().toISOString(),
    });
    const started = performance.now();
    http.post(record, new AbortController().signal);
    http.post(record, new AbortController().signal);
    console.log(`two post() calls returned after ${(performance.now() - started).toFixed(2)} ms`);
    expect(outcomes).toEqual(["skipped"]);
    await waitFor(() => outcomes.includes("failed"), { timeoutMs: 5_000, what: "the hung POST to be abandoned" });
    http.post(record, new AbortController().signal);
    await waitFor(() => outcomes.filter((o) => o === "failed").length === 2, { timeoutMs: 5_000, what: "a second abandoned POST" });
    await http.stop();
    expect(outcomes).toEqual(["skipped", "failed", "failed"]);
    expect(warned).toHaveLength(1); // throttled: one line a minute, however many fail
  });
});
