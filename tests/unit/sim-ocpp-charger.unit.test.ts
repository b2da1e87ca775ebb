import { afterEach, describe, expect, it } from "vitest";
import { OcppCharger } from "../../firmware-sim/ocpp/ocpp-charger.ts";
import { startStubCentral, type StubCentral } from "../support/ocpp-stub-central.ts";
import { waitFor } from "../support/wait.ts";

// The charger's model and message sequencing against a strict ocpp-rpc server over a real
// WebSocket; the gateway end to end is tests/e2e/ocpp-*.e2e.test.ts.
let central: StubCentral | undefined;
const chargers: OcppCharger[] = [];
afterEach(async () => {
  await Promise.all(chargers.splice(0).map((c) => c.stop()));
  await central?.close();
  central = undefined;
});

function charger(url: string, cpId: string, extra: Partial<ConstructorParameters<typeof OcppCharger>[0]> = {}): OcppCharger {
  const c = new OcppCharger({ url, cpId, password: "pw-secret-1234", meterMs: 100, reconnectMs: 50, reconnectMaxMs: 200, ev: { batteryWh: 1e6 }, ...extra });
  chargers.push(c);
  return c;
}

const inFuture = (ms: number) => new Date(Date.now() + ms).toISOString();

describe("OCPP 1.6J simulated charger", () => {
  it("boots, heartbeats at the interval Central returns, and reports each connector", async () => {
    central = await startStubCentral({ interval: 1 });
    const c = charger(central.url, "box-a", { connectors: 2 });
    await c.start();
    expect(central.calls[0]!.method).toBe("BootNotification");
    await waitFor(() => central!.of("StatusNotification").length >= 2, { what: "two StatusNotifications" });
    expect(central.of("StatusNotification").map((s) => s.params.connectorId).sort()).toEqual([1, 2]);
    expect(c.connectors.map((x) => x.cpId)).toEqual(["box-a", "box-a-2"]);
    await waitFor(() => central!.of("Heartbeat").length >= 2, { timeoutMs: 5_000, what: "two heartbeats at 1 s" });
  });

  it("reserve → remote start → meter values → remote stop, with the transactionId from StartTransaction.conf", async () => {
    central = await startStubCentral();
    const c = charger(central.url, "box-b");
    await c.start();
    expect(await central.call("box-b", "ReserveNow", { connectorId: 1, expiryDate: inFuture(60_000), idTag: "TAG-7", reservationId: 7 })).toEqual({ status: "Accepted" });
    expect(c.connectors[0]!.status).toBe("reserved");
    expect(await central.call("box-b", "RemoteStartTransaction", { connectorId: 1, idTag: "TAG-7" })).toEqual({ status: "Accepted" });
    const start = await waitFor(() => central!.of("StartTransaction")[0], { what: "StartTransaction" });
    expect(start.params).toMatchObject({ connectorId: 1, idTag: "TAG-7", reservationId: 7 });
    expect(Number.isInteger(start.params.meterStart)).toBe(true);
    await waitFor(() => central!.of("MeterValues").length >= 2, { what: "meter values" });
    const mv = central.of("MeterValues")[1]!.params as { transactionId: number; meterValue: { sampledValue: { measurand: string; unit: string }[] }[] };
    expect(mv.transactionId).toBe(100);
    expect(mv.meterValue[0]!.sampledValue.map((s) => s.measurand)).toEqual(["Energy.Active.Import.Register", "Power.Active.Import"]);
    expect(await central.call("box-b", "RemoteStopTransaction", { transactionId: 100 })).toEqual({ status: "Accepted" });
    const stop = await waitFor(() => central!.of("StopTransaction")[0], { what: "StopTransaction" });
    expect(stop.params).toMatchObject({ transactionId: 100, idTag: "TAG-7", reason: "Remote" });
    expect((stop.params.meterStop as number) - (start.params.meterStart as number)).toBe(c.connectors[0]!.firmware.sessions[0]!.meterStopWh! - c.connectors[0]!.firmware.sessions[0]!.meterStartWh);
    expect(await central.call("box-b", "RemoteStopTransaction", { transactionId: 100 })).toEqual({ status: "Rejected" });
  });

  it("keeps the reservation's expiry on its own clock and goes Available at expiry; CancelReservation releases it", async () => {
    central = await startStubCentral();
    const c = charger(central.url, "box-c");
    await c.start();
    await central.call("box-c", "ReserveNow", { connectorId: 1, expiryDate: inFuture(400), idTag: "T1", reservationId: 1 });
    await waitFor(() => central!.of("StatusNotification").some((s) => s.params.status === "Reserved"), { what: "Reserved" });
    await waitFor(() => c.connectors[0]!.status === "available" && central!.of("StatusNotification").at(-1)!.params.status === "Available", { what: "local expiry" });
    expect(c.connectors[0]!.firmware.localExpiries).toBe(1);
    // Central's cancel after the charger's own expiry: the desired state holds, so Accepted.
    expect(await central.call("box-c", "CancelReservation", { reservationId: 1 })).toEqual({ status: "Accepted" });
    await central.call("box-c", "ReserveNow", { connectorId: 1, expiryDate: inFuture(60_000), idTag: "T2", reservationId: 2 });
    expect(await central.call("box-c", "ReserveNow", { connectorId: 1, expiryDate: inFuture(60_000), idTag: "T3", reservationId: 3 })).toEqual({ status: "Occupied" });
    expect(await central.call("box-c", "CancelReservation", { reservationId: 2 })).toEqual({ status: "Accepted" });
    expect(c.connectors[0]!.status).toBe("available");
    expect(await central.call("box-c", "CancelReservation", { reservationId: 99 })).toEqual({ status: "Rejected" });
    expect(await central.call("box-c", "RemoteStartTransaction", { connectorId: 1, idTag: "T2" })).toEqual({ status: "Rejected" });
  });

  it("retries a StartTransaction whose CALLRESULT never came, then sends what it queued offline in order with the original timestamps", async () => {
    central = await startStubCentral();
    const c = charger(central.url, "box-d");
    await c.start();
    await central.call("box-d", "ReserveNow", { connectorId: 1, expiryDate: inFuture(60_000), idTag: "TD", reservationId: 4 });
    central.swallowNext("StartTransaction"); // the link dies before the answer
    await central.call("box-d", "RemoteStartTransaction", { connectorId: 1, idTag: "TD" });
    await waitFor(() => central!.of("StartTransaction").length >= 2, { what: "StartTransaction retried" });
    const [first, second] = central.of("StartTransaction");
    expect(second!.params).toEqual(first!.params);
    await waitFor(() => central!.of("MeterValues").length >= 1, { what: "meter values after the retry" });
    expect(central.of("MeterValues").every((m) => m.params.transactionId === 100)).toBe(true);

    // An outage: meter values and the stop are produced offline, then delivered in order.
    expect(c.goOffline(600)).toBe(true);
    const offlineFrom = Date.now();
    await new Promise((r) => setTimeout(r, 350)); // let the meter timer produce while offline
    c.connectors[0]!.firmware.stopCharging("local");
    await waitFor(() => central!.of("StopTransaction")[0], { what: "StopTransaction after reconnect" });
    const tx = central.calls.filter((x) => ["MeterValues", "StopTransaction"].includes(x.method));
    const stamps = tx.map((x) => Date.parse(x.method === "StopTransaction" ? (x.params.timestamp as string) : (x.params.meterValue as { timestamp: string }[])[0]!.timestamp));
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    const late = tx.filter((x) => x.at >= offlineFrom + 500);
    expect(late.some((x) => x.method === "MeterValues")).toBe(true);
    expect(stamps.at(-1)! < central.of("StopTransaction")[0]!.at - 100).toBe(true);
    expect(central.of("StopTransaction")[0]!.params).toMatchObject({ transactionId: 100, reason: "Local" });
    expect(c.outboxStats().retried).toBeGreaterThanOrEqual(1);
  });

  it("charges on two connectors at once, each with its own transaction", async () => {
    central = await startStubCentral();
    const c = charger(central.url, "box-e", { connectors: 2 });
    await c.start();
    await central.call("box-e", "ReserveNow", { connectorId: 1, expiryDate: inFuture(60_000), idTag: "E1", reservationId: 11 });
    await central.call("box-e", "ReserveNow", { connectorId: 2, expiryDate: inFuture(60_000), idTag: "E2", reservationId: 12 });
    await central.call("box-e", "RemoteStartTransaction", { connectorId: 2, idTag: "E2" });
    await central.call("box-e", "RemoteStartTransaction", { connectorId: 1, idTag: "E1" });
    await waitFor(() => central!.of("StartTransaction").length === 2, { what: "two starts" });
    expect(central.of("StartTransaction").map((s) => [s.params.connectorId, s.params.reservationId])).toEqual([[2, 12], [1, 11]]);
    expect(c.connectors.map((x) => x.status)).toEqual(["charging", "charging"]);
    await central.call("box-e", "RemoteStopTransaction", { transactionId: 100 });
    await waitFor(() => central!.of("StopTransaction")[0], { what: "stop" });
    expect(central.of("StopTransaction")[0]!.params.transactionId).toBe(100);
    expect(c.connectors.map((x) => x.status)).toEqual(["charging", "available"]);
  });

  it("reports a fault with its error code and clears it with NoError", async () => {
    central = await startStubCentral();
    const c = charger(central.url, "box-f");
    await c.start();
    c.connectors[0]!.fault("GFCI", "ground fault");
    c.connectors[0]!.clearFault();
    await waitFor(() => central!.of("StatusNotification").at(-1)?.params.status === "Available" && central!.of("StatusNotification").length >= 3, { what: "cleared" });
    const sn = central.of("StatusNotification").map((s) => s.params);
    expect(sn.filter((s) => s.status === "Faulted")).toEqual([expect.objectContaining({ errorCode: "OtherError", vendorErrorCode: "GFCI" })]);
    expect(sn.at(-1)).toMatchObject({ status: "Available", errorCode: "NoError" });
  });

  it("gives up on refused credentials (HTTP 401) after the grace period", async () => {
    central = await startStubCentral({ password: "the-right-one" });
    const c = charger(central.url, "box-g", { authGraceMs: 0 });
    await expect(c.start()).rejects.toThrow(/401/);
  });
});
