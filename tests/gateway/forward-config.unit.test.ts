import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../gateway/config.ts";
import { DEFAULT_BATCH_LIMITS } from "../../gateway/forward-batch.ts";
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from "../../platform/record-bytes.ts";

describe("forwarding and dead-letter settings", () => {
  it("default to bounds well under Kafka's default message.max.bytes", () => {
    const c = loadGatewayConfig({});
    expect(c).toMatchObject({ FORWARD_BATCH_MAX_BYTES: 524_288, FORWARD_RECORD_MAX_BYTES: 131_072, DEAD_LETTERS_PER_MINUTE: 60 });
    expect(c.FORWARD_BATCH_MAX_BYTES).toBe(DEFAULT_BATCH_LIMITS.maxBatchBytes);
    expect(c.FORWARD_RECORD_MAX_BYTES).toBe(DEFAULT_BATCH_LIMITS.maxRecordBytes);
    expect(c.FORWARD_BATCH_MAX_BYTES).toBeLessThan(KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
  });

  it("refuses contradictory or malformed values, naming the variable", () => {
    expect(() => loadGatewayConfig({ FORWARD_BATCH_MAX_BYTES: "4096", FORWARD_RECORD_MAX_BYTES: "8192" })).toThrow(/FORWARD_RECORD_MAX_BYTES/);
    expect(() => loadGatewayConfig({ FORWARD_BATCH_MAX_BYTES: "lots" })).toThrow(/FORWARD_BATCH_MAX_BYTES/);
    expect(() => loadGatewayConfig({ DEAD_LETTERS_PER_MINUTE: "-1" })).toThrow(/DEAD_LETTERS_PER_MINUTE/);
    expect(loadGatewayConfig({ DEAD_LETTERS_PER_MINUTE: "0" }).DEAD_LETTERS_PER_MINUTE).toBe(0);
  });
});
