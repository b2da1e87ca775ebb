/**
 * `npm run sim -- --count 10 --url mqtt://127.0.0.1:1883 --api http://127.0.0.1:8080 --token <operator>`
 * Provisions chargers through Central's operator API (or reads --credentials) and runs them.
 */
import { parseArgs } from "node:util";
import { createLogger } from "../platform/logger.ts";
import { onShutdown } from "../platform/shutdown.ts";
import { simCpIds, startFleet } from "./fleet.ts";
import { provisionChargers } from "./provision.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: process.env.SIM_CHARGERS ?? "5" },
    url: { type: "string", default: process.env.MQTT_URL ?? "mqtt://127.0.0.1:1883" },
    api: { type: "string", default: process.env.API_URL ?? "http://127.0.0.1:8080" },
    token: { type: "string", default: process.env.OPERATOR_TOKEN },
    prefix: { type: "string", default: "sim-cp" },
    credentials: { type: "string", default: "./data/sim/credentials.json" },
    "meter-ms": { type: "string", default: "10000" },
    "heartbeat-ms": { type: "string", default: "30000" },
  },
});

const log = createLogger("firmware-sim");
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) throw new Error("--count must be a positive whole number");
if (!values.token) throw new Error("--token (or OPERATOR_TOKEN) is required to provision chargers");

const chargers = await provisionChargers({
  apiUrl: values.api!,
  operatorToken: values.token,
  cpIds: simCpIds(count, values.prefix),
  credentialsFile: values.credentials,
});
const fleet = await startFleet({
  url: values.url!,
  chargers,
  meterMs: Number(values["meter-ms"]),
  heartbeatMs: Number(values["heartbeat-ms"]),
});
log.info({ count, url: values.url }, "Simulated chargers connected");
onShutdown(log, () => fleet.stop());
