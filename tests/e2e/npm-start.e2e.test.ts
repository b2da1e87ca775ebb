import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RPCClient } from "ocpp-rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, type ApiCall } from "../support/api-client.ts";
import { embeddedEnv, startProcess, type RunningProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";
import { expectChargersOnline, runChargeFlow, runTimeoutRollback } from "./charge-flow.scenario.ts";

const TTL_SECONDS = 3;

describe("npm start: the embedded composition over real MQTT and HTTP", () => {
  let proc: RunningProcess;
  let api: ApiCall;
  let operatorToken: string;
  let dataDir: string;
  let apiUrl: string;
  let gatewayHttpUrl: string;
  let ocppUrl: string;
  let boardUrl: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cb-e2e-"));
    proc = startProcess(
      "scripts/start.ts",
      embeddedEnv(dataDir, {
        SIM_CHARGERS: "3",
        SIM_METER_MS: "200",
        RESERVATION_TTL_SECONDS: String(TTL_SECONDS),
        OPERATOR_TOKEN: "",
        // Tests poll the API far faster than a driver app; the limiter has its own tests.
        DRIVER_RATE_PER_MINUTE: "0",
      }),
      "npm start",
    );
    const ready = await proc.waitForLog((l) => l.msg === "ChargeBridge is running", 90_000, "ready line");
    expect(ready).toMatchObject({ bus: "in-process", database: "pglite", simChargers: 3 });
    apiUrl = ready.apiUrl as string;
    gatewayHttpUrl = ready.gatewayHttpUrl as string;
    ocppUrl = ready.ocppUrl as string;
    boardUrl = ready.boardUrl as string;
    api = apiClient(apiUrl);
    operatorToken = ready.operatorToken as string;
    await expectChargersOnline(api, operatorToken, ["sim-cp-001", "sim-cp-002", "sim-cp-003"]);
  });

  afterAll(async () => {
    await proc?.kill();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("serves health, readiness, metrics and the OpenAPI document", async () => {
    const health = await api("GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "ok", db: "pglite", bus: { state: "connected" }, subscriptions: { events: "joined" } });
    expect(JSON.stringify(health.body)).not.toContain("lastError"); // public endpoint: states, not error texts
    expect((await api("GET", "/readyz")).body).toMatchObject({ status: "ready", checks: { database: true, bus: true } });
    const metrics = await fetch(`${apiUrl}/metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(await metrics.text()).toContain("chargebridge_central_events_applied_total");
    const gwHealth = await fetch(`${gatewayHttpUrl}/healthz`);
    expect(await gwHealth.json()).toMatchObject({ status: "ok", chargers: 3 });
    const gwMetrics = await (await fetch(`${gatewayHttpUrl}/metrics`)).text();
    expect(gwMetrics).toMatch(/chargebridge_gateway_connected_chargers\{[^}]*\} 3/);
    expect((await fetch(`${gatewayHttpUrl}/readyz`)).status).toBe(200);
    const openapi = await api("GET", "/openapi.json");
    expect(openapi.body.paths["/v1/reservations"].post.requestBody).toBeDefined();
  });

  it("prints the OCPP address; a charge box provisioned over REST boots there with its secret", async () => {
    expect(ocppUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ocpp\/\{cpId\}$/);
    const created = await api("POST", "/v1/charge-points", operatorToken, { cpId: "ocpp-box-1" });
    expect(created.status).toBe(201);
    const box = await waitFor(
      async () => {
        const client = new RPCClient({
          endpoint: ocppUrl.replace("/{cpId}", ""),
          identity: "ocpp-box-1",
          password: created.body.mqtt.password,
          protocols: ["ocpp1.6"],
          strictMode: true,
          reconnect: false,
        } as ConstructorParameters<typeof RPCClient>[0]);
        await client.connect(); // 401 until the gateway has the new credential
        return client;
      },
      { what: "OCPP connection with the provisioned secret" },
    );
    expect(await box.call("BootNotification", { chargePointVendor: "Acme", chargePointModel: "OCPP-1" })).toMatchObject({ status: "Accepted" });
    await waitFor(async () => (await api("GET", "/v1/charge-points/ocpp-box-1", operatorToken)).body.vendor === "Acme", { what: "boot applied by Central" });
    await box.close();
  });

  it("prints the board's address and serves the board, the driver app and the API reference", async () => {
    expect(boardUrl).toBe(`${apiUrl}/board`);
    const root = await fetch(`${apiUrl}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/board");
    for (const [path, marker] of [["/board", "operator board"], ["/app", "Register"], ["/docs", "API reference"]] as const) {
      const page = await fetch(`${apiUrl}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(await page.text()).toContain(marker);
    }
  });

  it("takes a driver from reservation to a completed session with energy", async () => {
    await runChargeFlow(api, "sim-cp-001");
  });

  it("rolls back a reservation that times out", async () => {
    await runTimeoutRollback(api, TTL_SECONDS);
  });

  it("refuses bad input with a 4xx naming the field", async () => {
    const res = await api("POST", "/v1/drivers", undefined, { name: 42 });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "validation_failed", field: "name" });
    const bad = await api("POST", "/v1/charge-points", operatorToken, { cpId: "a/b#" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("cpId");
    expect((await api("GET", "/v1/charge-points")).status).toBe(401);
  });

  it("shuts down gracefully on SIGTERM", async () => {
    expect(await proc.stop()).toBe(0);
    expect(proc.lines.some((l) => l.msg === "Gateway stopped")).toBe(true);
    expect(proc.lines.some((l) => l.msg === "Central stopped")).toBe(true);
  });
});
