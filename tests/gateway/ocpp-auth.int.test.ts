import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { basic, createOcppHarness, metric, type OcppHarness } from "../support/ocpp-harness.ts";
import { waitFor } from "../support/wait.ts";

describe("OCPP 1.6J upgrade authentication (security profile 1)", () => {
  let h: OcppHarness;
  beforeEach(async () => {
    // Rate limits off: this file makes many attempts from one address on purpose.
    h = await createOcppHarness({ MQTT_CONNECT_RATE_PER_MINUTE: "0", MQTT_AUTH_FAILURES_PER_MINUTE: "0" });
  });
  afterEach(async () => h?.close());

  it("accepts the provisioned secret with username = the path's cpId (101, subprotocol ocpp1.6)", async () => {
    const secret = await h.addCharger("box-a");
    expect(await h.upgradeStatus("/ocpp/box-a", basic("box-a", secret))).toBe(101);
    const client = await h.connect("box-a", secret);
    expect(client.protocol).toBe("ocpp1.6");
  });

  it("refuses with 401: wrong password, no credentials, unknown charger, username not the path's cpId", async () => {
    const secret = await h.addCharger("box-b");
    await h.addCharger("box-c");
    expect(await h.upgradeStatus("/ocpp/box-b", basic("box-b", "wrong"))).toBe(401);
    expect(await h.upgradeStatus("/ocpp/box-b")).toBe(401);
    expect(await h.upgradeStatus("/ocpp/never-provisioned", basic("never-provisioned", "x"))).toBe(401);
    // box-c's path with box-b's (valid) credentials: a charger may only be itself
    expect(await h.upgradeStatus("/ocpp/box-c", basic("box-b", secret))).toBe(401);
    await expect(h.connect("box-b", "wrong")).rejects.toThrow();
  });

  it("refuses a revoked charger with 401, and revocation closes its live connection", async () => {
    const secret = await h.addCharger("box-r");
    const client = await h.connect("box-r", secret);
    const closed = new Promise<{ code: number }>((resolve) => client.once("close", resolve));
    await h.revoke("box-r");
    expect((await closed).code).toBe(1008);
    expect(await h.upgradeStatus("/ocpp/box-r", basic("box-r", secret))).toBe(401);
  });

  it("a box may no longer speak for a connector charge point once that one is revoked", async () => {
    const secret = await h.addCharger("box-k");
    await h.addCharger("box-k-2");
    const box = await h.connect("box-k", secret);
    await box.call("StatusNotification", { connectorId: 2, errorCode: "NoError", status: "Available" });
    await waitFor(() => h.up("box-k-2", "status").length === 1, { what: "box-k-2 status" });
    await h.revoke("box-k-2");
    await box.call("StatusNotification", { connectorId: 2, errorCode: "NoError", status: "Unavailable" });
    const start = (await box.call("StartTransaction", { connectorId: 2, idTag: "ANY", meterStart: 0, timestamp: new Date().toISOString() })) as any;
    expect(start.idTagInfo.status).toBe("Invalid");
    await waitFor(() => h.deadLetters.some((r) => JSON.parse(r.value).reason.includes("connector 2 has no provisioned")), { what: "refused connector dead-lettered" });
    expect(h.up("box-k-2", "status")).toHaveLength(1);
    // the box itself stays connected and served
    expect(await box.call("Heartbeat", {})).toHaveProperty("currentTime");
  });

  it("answers other paths 404 and a missing ocpp1.6 subprotocol 400", async () => {
    const secret = await h.addCharger("box-p");
    expect(await h.upgradeStatus("/other/box-p", basic("box-p", secret))).toBe(404);
    expect(await h.upgradeStatus("/ocpp/box-p", basic("box-p", secret), "ocpp2.0.1")).toBe(400);
  });

  it("counts refusals in /metrics", async () => {
    await h.addCharger("box-m");
    await h.upgradeStatus("/ocpp/box-m", basic("box-m", "nope"));
    await waitFor(async () => (await metric(h, "chargebridge_gateway_refused_total", 'what="connect"')) === 1, { what: "refusal counted" });
  });
});

describe("OCPP connection cap and rate limits apply as for MQTT", () => {
  let h: OcppHarness;
  afterEach(async () => h?.close());

  it("MQTT_MAX_CONNECTIONS counts OCPP connections: one over the cap gets 503", async () => {
    h = await createOcppHarness({ MQTT_MAX_CONNECTIONS: "1", MQTT_CONNECT_RATE_PER_MINUTE: "0" });
    const secret = await h.addCharger("box-1");
    await h.connect("box-1", secret);
    expect(await h.upgradeStatus("/ocpp/box-1", basic("box-1", secret))).toBe(503);
  });

  it("per-address connect rate: over the limit gets 429", async () => {
    h = await createOcppHarness({ MQTT_CONNECT_RATE_PER_MINUTE: "2" });
    const secret = await h.addCharger("box-2");
    expect(await h.upgradeStatus("/ocpp/box-2", basic("box-2", secret))).toBe(101);
    expect(await h.upgradeStatus("/ocpp/box-2", basic("box-2", secret))).toBe(101);
    expect(await h.upgradeStatus("/ocpp/box-2", basic("box-2", secret))).toBe(429);
  });
});
