import type { Client, PublishPacket, Subscription } from "aedes";
import { describe, expect, it } from "vitest";
import { createAuthenticate } from "../../gateway/broker/authenticate.ts";
import { createAuthorizePublish } from "../../gateway/broker/authorize-publish.ts";
import { createIngest } from "../../gateway/ingest/ingest.ts";
import { createAuthorizeSubscribe } from "../../gateway/broker/authorize-subscribe.ts";
import { CredentialCache } from "../../gateway/credentials/credential-cache.ts";
import { createMemoryQueue } from "../../gateway/queue/memory-queue.ts";
import { decodeQueueRecord } from "../../gateway/queue-record.ts";
import { ManualClock } from "../../platform/clock.ts";
import { hashSecret } from "../../platform/password-hash.ts";

const client = (id: string) => ({ id }) as unknown as Client;

describe("authenticate hook", () => {
  async function setup() {
    const cache = await CredentialCache.open();
    const hash = await hashSecret("s3cret", 1_000);
    cache.apply(JSON.stringify({ cpId: "cp-1", hash, updatedAt: new Date().toISOString() }));
    const refused: string[] = [];
    const auth = createAuthenticate({ credentials: cache, onRefused: (_id, reason) => refused.push(reason) });
    const run = (id: string, user: string | undefined, pass: string | undefined) =>
      new Promise<{ ok: boolean | null; code?: number }>((resolve) =>
        auth(client(id), user, pass === undefined ? undefined : Buffer.from(pass), (err, ok) =>
          resolve({ ok, code: err?.returnCode }),
        ),
      );
    return { run, refused, cache };
  }

  it("admits the right secret and refuses everything else with the right CONNACK code", async () => {
    const { run, refused } = await setup();
    expect(await run("cp-1", "cp-1", "s3cret")).toEqual({ ok: true, code: undefined });
    expect(await run("cp-1", "cp-1", "nope")).toEqual({ ok: false, code: 4 });
    expect(await run("cp-1", "cp-2", "s3cret")).toEqual({ ok: false, code: 4 });
    expect(await run("cp-1", "cp-1", undefined)).toEqual({ ok: false, code: 4 });
    expect(await run("cp/+", "cp/+", "s3cret")).toEqual({ ok: false, code: 2 });
    expect(await run("cp-9", "cp-9", "s3cret")).toEqual({ ok: false, code: 4 });
    expect(refused).toEqual(["bad_credentials", "username_mismatch", "username_mismatch", "bad_client_id", "bad_credentials"]);
  });

  it("stops admitting the old secret once a rotated hash arrives", async () => {
    const { run, cache } = await setup();
    expect((await run("cp-1", "cp-1", "s3cret")).ok).toBe(true); // now memoised
    const rotated = await hashSecret("n3w", 1_000);
    cache.apply(JSON.stringify({ cpId: "cp-1", hash: rotated, updatedAt: new Date().toISOString() }));
    expect((await run("cp-1", "cp-1", "s3cret")).ok).toBe(false);
    expect((await run("cp-1", "cp-1", "n3w")).ok).toBe(true);
    cache.apply(JSON.stringify({ cpId: "cp-1", hash: null, updatedAt: new Date().toISOString() }));
    expect((await run("cp-1", "cp-1", "n3w")).ok).toBe(false);
  });
});

describe("authorizeSubscribe hook", () => {
  const hook = createAuthorizeSubscribe(() => {});
  const run = (id: string, topic: string, qos: 0 | 1 | 2 = 1) =>
    new Promise<Subscription | null | undefined>((resolve) => hook(client(id), { topic, qos } as Subscription, (_e, s) => resolve(s)));

  it("grants only the charger's own down topics, capped at QoS 1", async () => {
    expect(await run("cp-1", "chargebridge/v1/cp-1/down/#", 2)).toMatchObject({ qos: 1 });
    expect(await run("cp-1", "chargebridge/v1/cp-1/down/reserve")).toMatchObject({ qos: 1 });
    for (const t of ["#", "+/+/+", "chargebridge/v1/+/down/#", "chargebridge/v1/cp-2/down/#", "chargebridge/v1/cp-1/up/#", "$SYS/#"]) {
      expect(await run("cp-1", t)).toBeNull();
    }
  });
});

describe("authorizePublish hook", () => {
  function setup(maxPayloadBytes = 1024) {
    const queue = createMemoryQueue({ maxBytes: 1 << 20 });
    const refused: string[] = [];
    const ingest = createIngest({
      queue,
      gatewayId: "gw",
      clock: new ManualClock(),
      maxPayloadBytes,
      maxRecordBytes: 128 * 1024,
      admitDeadLetter: () => true,
      onAccepted: () => {},
      onInvalid: () => {},
      onDeadLetterLimited: () => {},
    });
    const hook = createAuthorizePublish({ ingest, onRefused: (_c, t) => refused.push(t) });
    const run = (id: string | null, topic: string, payload: string) =>
      new Promise<Error | null | undefined>((resolve) =>
        hook(id ? client(id) : null, { topic, payload: Buffer.from(payload), qos: 1, retain: true } as unknown as PublishPacket, resolve),
      );
    return { queue, refused, run };
  }

  it("queues a valid message before acknowledging it", async () => {
    const { queue, run } = setup();
    const err = await run("cp-1", "chargebridge/v1/cp-1/up/heartbeat", JSON.stringify({ id: "h1", ts: new Date().toISOString() }));
    expect(err).toBeFalsy();
    const [entry] = await queue.peek(10);
    expect(decodeQueueRecord(entry!.data)).toMatchObject({ topic: "events", key: "cp-1" });
  });

  it("dead-letters malformed and oversized payloads but still acknowledges them", async () => {
    const { queue, run } = setup(64);
    expect(await run("cp-1", "chargebridge/v1/cp-1/up/heartbeat", "nope")).toBeFalsy();
    expect(await run("cp-1", "chargebridge/v1/cp-1/up/heartbeat", JSON.stringify({ id: "x", ts: new Date().toISOString(), pad: "x".repeat(100) }))).toBeFalsy();
    const records = (await queue.peek(10)).map((e) => decodeQueueRecord(e.data));
    expect(records.map((r) => r.topic)).toEqual(["deadLetters", "deadLetters"]);
    expect(JSON.parse(records[1]!.value).reason).toBe("payload exceeds 64 bytes");
  });

  it("refuses publishing outside the charger's own up topics, and lets the gateway's own publishes through", async () => {
    const { queue, refused, run } = setup();
    expect(await run("cp-1", "chargebridge/v1/cp-2/up/heartbeat", "{}")).toBeInstanceOf(Error);
    expect(await run("cp-1", "chargebridge/v1/cp-1/down/start", "{}")).toBeInstanceOf(Error);
    expect(await run("cp-1", "anything/else", "{}")).toBeInstanceOf(Error);
    expect(await run(null, "chargebridge/v1/cp-1/down/start", "{}")).toBeFalsy();
    expect(refused).toHaveLength(3);
    expect(queue.stats().depth).toBe(0);
  });
});
