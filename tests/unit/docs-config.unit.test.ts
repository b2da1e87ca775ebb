import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { centralConfigSchema } from "../../central/config.ts";
import { gatewayConfigSchema } from "../../gateway/config.ts";
import { REPO_ROOT } from "../support/processes.ts";

const read = (path: string) => readFileSync(`${REPO_ROOT}${path}`, "utf8");

/** Settings read outside the two config schemas (topic names, the npm start composition, logging). */
const OTHER_SETTINGS = ["KAFKA_TOPIC_EVENTS", "KAFKA_TOPIC_COMMANDS", "KAFKA_TOPIC_DLQ", "KAFKA_TOPIC_CREDENTIALS", "KAFKA_TOPIC_GATEWAY_HEALTH", "SIM_CHARGERS", "LOG_LEVEL"];

/** The README's configuration table is the operator's first stop; it must not fall behind the code. */
describe("documented configuration", () => {
  const settings = [...Object.keys(centralConfigSchema.shape), ...Object.keys(gatewayConfigSchema.shape), ...OTHER_SETTINGS];

  it("lists every setting in the README's configuration table", () => {
    const readme = read("README.md");
    expect(settings.filter((key) => !readme.includes(`\`${key}\``))).toEqual([]);
  });

  it("describes every setting in docs/operations.md", () => {
    const ops = read("docs/operations.md");
    expect(settings.filter((key) => !ops.includes(key))).toEqual([]);
  });
});
