import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialPublisher } from "../../central/commands/credential-publisher.ts";
import { insertChargePoint } from "../../central/lifecycle/index.ts";
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, chunkRecords, recordBytes } from "../../platform/record-bytes.ts";
import { createCentralHarness, type CentralHarness } from "../support/central-harness.ts";
import { waitFor } from "../support/wait.ts";

/**
 * A credential snapshot is one record per charger. Sent as one publish it passes 1 MiB at a few
 * thousand chargers, which Kafka (and the in-process bus, which enforces Kafka's limit) refuses
 * for good: gateways would never learn a charger's secret.
 */
describe("credential snapshot for a large fleet", () => {
  let h: CentralHarness;
  const CHARGERS = 9_000;
  beforeAll(async () => {
    h = await createCentralHarness();
    const now = new Date(h.clock.now());
    // A realistic hash length (platform/password-hash.ts: PBKDF2, salt and parameters).
    const hash = `pbkdf2-sha256$100000$${"s".repeat(22)}$${"h".repeat(43)}`;
    await h.central.ctx.db.transaction(async (tx) => {
      for (let i = 0; i < CHARGERS; i++) await insertChargePoint(tx, `fleet-${i}`, hash, now);
    });
  }, 120_000);
  afterAll(async () => h?.close());

  it("reaches the bus whole, in bounded publishes", async () => {
    const seen = new Set<string>();
    const sub = await h.bus.subscribe(h.central.ctx.topics.credentials, { groupId: "snapshot-test", fromBeginning: true }, async (r) => {
      seen.add(r.key);
    });
    const publisher = new CredentialPublisher(h.central.ctx, h.bus);
    await publisher.publishSnapshot();
    await waitFor(() => [...Array(CHARGERS).keys()].every((i) => seen.has(`fleet-${i}`)), { timeoutMs: 60_000, what: "every charger's credential on the bus" });
    await publisher.stop();
    await sub.close();
  }, 120_000);

  it("chunks keep order and stay under the bound", () => {
    const records = Array.from({ length: 3_000 }, (_, i) => ({ key: `k${i}`, value: "v".repeat(300) }));
    const chunks = chunkRecords(records, 64 * 1024, 500);
    expect(chunks.flat()).toEqual(records);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(500);
      expect(c.reduce((n, r) => n + recordBytes(r), 0)).toBeLessThanOrEqual(64 * 1024);
    }
    expect(chunkRecords(records).every((c) => c.reduce((n, r) => n + recordBytes(r), 0) < KAFKA_DEFAULT_MAX_MESSAGE_BYTES)).toBe(true);
  });
});
