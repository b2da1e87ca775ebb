import type { Client } from "aedes";
import { describe, expect, it } from "vitest";
import { createAuthenticate, type RefusalReason } from "../../gateway/broker/authenticate.ts";
import { CredentialCache } from "../../gateway/credentials/credential-cache.ts";
import { ManualClock } from "../../platform/clock.ts";
import { hashSecret } from "../../platform/password-hash.ts";
import { RateLimiter } from "../../platform/rate-limit.ts";

const client = (id: string, remoteAddress = "10.0.0.1") => ({ id, conn: { remoteAddress } }) as unknown as Client;

async function setup(limits: { perAddress?: number; failures?: number }) {
  const clock = new ManualClock();
  const cache = await CredentialCache.open();
  cache.apply(JSON.stringify({ cpId: "cp-1", hash: await hashSecret("s3cret", 1_000), updatedAt: new Date().toISOString() }));
  const refused: RefusalReason[] = [];
  const auth = createAuthenticate({
    credentials: cache,
    perAddress: limits.perAddress === undefined ? undefined : new RateLimiter({ perMinute: limits.perAddress, clock }),
    failures: limits.failures === undefined ? undefined : new RateLimiter({ perMinute: limits.failures, clock }),
    onRefused: (_id, reason) => refused.push(reason),
  });
  const run = (id: string, pass: string, address?: string) =>
    new Promise<number | undefined>((resolve) => auth(client(id, address), id, Buffer.from(pass), (err) => resolve(err?.returnCode ?? 0)));
  return { run, refused, clock };
}

describe("authenticate hook: rate limits", () => {
  it("counts every attempt per source address, whatever it carries, and refuses with CONNACK 3", async () => {
    const { run, refused, clock } = await setup({ perAddress: 2 });
    expect(await run("cp-1", "s3cret")).toBe(0);
    expect(await run("cp+bad", "x")).toBe(2);
    expect(await run("cp-1", "s3cret")).toBe(3);
    expect(await run("cp-1", "s3cret", "10.0.0.2")).toBe(0); // another address has its own bucket
    clock.advance(30_000);
    expect(await run("cp-1", "s3cret")).toBe(0);
    expect(refused).toEqual(["bad_client_id", "rate_limited_address"]);
  });

  it("takes a failure token before the slow check, so concurrent guesses cannot exceed the limit", async () => {
    const { run, refused } = await setup({ failures: 2 });
    const codes = await Promise.all(Array.from({ length: 10 }, (_, i) => run("cp-1", `guess-${i}`)));
    expect(codes.filter((c) => c === 4)).toHaveLength(2);
    expect(codes.filter((c) => c === 3)).toHaveLength(8);
    expect(refused.filter((r) => r === "rate_limited_cp")).toHaveLength(8);
  });

  it("gives the token back on success, so a charger's own reconnects never use up its cpId", async () => {
    const { run } = await setup({ failures: 1 });
    for (let i = 0; i < 5; i++) expect(await run("cp-1", "s3cret")).toBe(0);
    expect(await run("cp-1", "wrong")).toBe(4);
    expect(await run("cp-1", "wrong")).toBe(3);
    expect(await run("cp-1", "s3cret")).toBe(0); // remembered: admitted without a token
  });
});
