import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOcppHarness, type OcppHarness } from "../support/ocpp-harness.ts";
import { waitFor } from "../support/wait.ts";

describe("OCPP 1.6J charge box → ChargeBridge events", () => {
  let h: OcppHarness;
  // Every fsync takes 150 ms longer than it does: an answer sent before its fsync would arrive
  // while `synced` does not yet hold the event.
  beforeEach(async () => {
    h = await createOcppHarness({}, { syncDelayMs: 150 });
  });
  afterEach(async () => h?.close());

  const syncedUp = (cpId: string, type: string) =>
    h.synced.map((t) => JSON.parse(t)).filter((r) => r.topic === "events").map((r) => JSON.parse(r.value)).filter((e) => e.kind === "up" && e.cpId === cpId && e.type === type);

  it("BootNotification without firmwareVersion → boot, Accepted with interval, answered after the fsync", async () => {
    const box = await h.connect("ob-1", await h.addCharger("ob-1"));
    const answer = (await box.call("BootNotification", { chargePointVendor: "Acme", chargePointModel: "W1" })) as any;
    expect(answer.status).toBe("Accepted");
    expect(answer.interval).toBe(300);
    expect(Date.parse(answer.currentTime)).not.toBeNaN();
    const boots = syncedUp("ob-1", "boot");
    expect(boots).toHaveLength(1);
    expect(boots[0].payload).toMatchObject({ vendor: "Acme", model: "W1", firmware: "", transport: "ocpp1.6" });
    // The envelope, set by the gateway, says which box and connector the charge point is.
    expect(boots[0]).toMatchObject({ transport: "ocpp1.6", chargeBox: "ob-1", connectorId: 1 });
    await waitFor(() => h.up("ob-1", "boot").length === 1, { what: "boot on the bus" });
  });

  it("Heartbeat → heartbeat, answered with currentTime after the fsync", async () => {
    const box = await h.connect("ob-2", await h.addCharger("ob-2"));
    const answer = (await box.call("Heartbeat", {})) as any;
    expect(Date.parse(answer.currentTime)).not.toBeNaN();
    expect(syncedUp("ob-2", "heartbeat")).toHaveLength(1);
  });

  it("StatusNotification maps every OCPP status, by the box's timestamp, after the fsync", async () => {
    const box = await h.connect("ob-3", await h.addCharger("ob-3"));
    const table: [string, string][] = [
      ["Available", "available"],
      ["Preparing", "reserved"],
      ["Reserved", "reserved"],
      ["Charging", "charging"],
      ["SuspendedEV", "charging"],
      ["SuspendedEVSE", "charging"],
      ["Finishing", "available"], // no open transaction on the connector
      ["Unavailable", "unavailable"],
      ["Faulted", "faulted"],
    ];
    for (const [i, [ocpp, mapped]] of table.entries()) {
      const timestamp = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
      await box.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: ocpp, timestamp });
      const last = syncedUp("ob-3", "status").at(-1);
      expect(last.payload, ocpp).toMatchObject({ status: mapped, ts: timestamp });
    }
  });

  it("errorCode other than NoError → fault; NoError afterwards → fault_cleared", async () => {
    const box = await h.connect("ob-4", await h.addCharger("ob-4"));
    await box.call("StatusNotification", { connectorId: 1, errorCode: "GroundFailure", status: "Faulted", info: "RCD tripped", vendorErrorCode: "E42" });
    expect(syncedUp("ob-4", "fault")[0].payload).toMatchObject({ code: "GroundFailure/E42", message: "RCD tripped" });
    await box.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Available" });
    expect(syncedUp("ob-4", "fault_cleared")).toHaveLength(1);
    expect(syncedUp("ob-4", "status").map((e) => e.payload.status)).toEqual(["faulted", "available"]);
  });

  it("connector 0 applies to every connector charge point the box speaks for", async () => {
    const secret = await h.addCharger("ob-5");
    await h.addCharger("ob-5-2");
    const box = await h.connect("ob-5", secret);
    await box.call("StatusNotification", { connectorId: 2, errorCode: "NoError", status: "Available" });
    await box.call("StatusNotification", { connectorId: 0, errorCode: "NoError", status: "Unavailable" });
    expect(syncedUp("ob-5", "status").map((e) => e.payload.status)).toEqual(["unavailable"]);
    expect(syncedUp("ob-5-2", "status").map((e) => e.payload.status)).toEqual(["available", "unavailable"]);
    expect(syncedUp("ob-5-2", "status").map(({ transport, chargeBox, connectorId }) => ({ transport, chargeBox, connectorId }))).toEqual([
      { transport: "ocpp1.6", chargeBox: "ob-5", connectorId: 2 },
      { transport: "ocpp1.6", chargeBox: "ob-5", connectorId: 2 },
    ]);
    expect(syncedUp("ob-5", "status")[0]).toMatchObject({ transport: "ocpp1.6", chargeBox: "ob-5", connectorId: 1 });
    // the connector's charge point went online with its box (Central reserves only online ones)
    await waitFor(() => h.events.map((r) => JSON.parse(r.value)).some((e) => e.kind === "presence" && e.cpId === "ob-5-2" && e.online), { what: "ob-5-2 online" });
  });

  it("a connector whose charge point is not provisioned is answered but not mapped (dead letter)", async () => {
    const box = await h.connect("ob-6", await h.addCharger("ob-6"));
    expect(await box.call("StatusNotification", { connectorId: 3, errorCode: "NoError", status: "Available" })).toEqual({});
    expect(syncedUp("ob-6-3", "status")).toHaveLength(0);
    await waitFor(() => h.deadLetters.some((r) => JSON.parse(r.value).reason.includes("connector 3")), { what: "dead letter" });
  });

  it("StartTransaction, MeterValues and StopTransaction are answered only once their events are fsynced", async () => {
    const box = await h.connect("ob-8", await h.addCharger("ob-8"));
    let reserve: any;
    box.handle("ReserveNow", async ({ params }: { params?: any }) => ((reserve = params), { status: "Accepted" }));
    await h.sendCommand("ob-8", "reserve", { reservationId: "res-8", expiresAt: new Date(Date.now() + 600_000).toISOString() });
    await waitFor(() => syncedUp("ob-8", "command_result").length === 1, { what: "reserve answered" });
    const start = (await box.call("StartTransaction", { connectorId: 1, idTag: reserve.idTag, meterStart: 10, reservationId: reserve.reservationId, timestamp: "2026-04-01T08:00:00.000Z" })) as any;
    expect(syncedUp("ob-8", "charging_started")).toHaveLength(1);
    await box.call("MeterValues", { connectorId: 1, transactionId: start.transactionId, meterValue: [{ timestamp: "2026-04-01T08:01:00.000Z", sampledValue: [{ value: "20" }] }] });
    expect(syncedUp("ob-8", "meter").map((e) => e.payload.energyWh)).toEqual([20]);
    await box.call("StopTransaction", { transactionId: start.transactionId, meterStop: 30, timestamp: "2026-04-01T08:02:00.000Z" });
    expect(syncedUp("ob-8", "charging_stopped").map((e) => e.payload.meterStopWh)).toEqual([30]);
  });

  it("reports online presence for the box and its connectors, and offline when it goes", async () => {
    const secret = await h.addCharger("ob-7");
    const box = await h.connect("ob-7", secret);
    const presence = () => h.events.map((r) => JSON.parse(r.value)).filter((e) => e.kind === "presence" && e.cpId === "ob-7");
    await waitFor(() => presence().some((e) => e.online), { what: "online" });
    await box.close();
    await waitFor(() => presence().some((e) => !e.online), { what: "offline" });
    const health = (await (await fetch(`http://127.0.0.1:${h.gateway.httpPort()}/healthz`)).json()) as any;
    expect(health.chargersByTransport).toEqual({ mqtt: 0, ocpp: 0 });
  });
});
