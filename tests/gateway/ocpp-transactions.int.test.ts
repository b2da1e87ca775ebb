import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RPCClient } from "ocpp-rpc";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOcppHarness, metric, type OcppHarness } from "../support/ocpp-harness.ts";
import { waitFor } from "../support/wait.ts";

/** A box whose command handlers answer `status` and record what they got. */
function answering(box: RPCClient, status: Record<string, string> = {}) {
  const got: { method: string; params: any }[] = [];
  for (const method of ["ReserveNow", "CancelReservation", "RemoteStartTransaction", "RemoteStopTransaction"]) {
    box.handle(method, async ({ params }: { params?: any }) => {
      got.push({ method, params });
      return { status: status[method] ?? "Accepted" };
    });
  }
  return got;
}

describe("OCPP 1.6J commands and transactions", () => {
  let h: OcppHarness;
  beforeEach(async () => {
    h = await createOcppHarness({ COMMAND_TTL_SECONDS: "30", OCPP_CALL_TIMEOUT_SECONDS: "1" });
  });
  afterEach(async () => h?.close());

  const result = (cpId: string, commandId: string) => waitFor(() => h.up(cpId, "command_result").find((e) => e.payload.commandId === commandId), { what: `command_result ${commandId}` });
  const expiresAt = () => new Date(Date.now() + 600_000).toISOString();

  it("reserve → ReserveNow, start → RemoteStart, StartTransaction, MeterValues, stop → RemoteStop, StopTransaction", async () => {
    const box = await h.connect("ot-1", await h.addCharger("ot-1"));
    const got = answering(box);
    const reserveId = await h.sendCommand("ot-1", "reserve", { reservationId: "res-1", expiresAt: expiresAt() });
    expect((await result("ot-1", reserveId)).payload).toMatchObject({ accepted: true });
    const reserveNow = got.find((c) => c.method === "ReserveNow")!.params;
    expect(reserveNow).toMatchObject({ connectorId: 1 });
    expect(Number.isInteger(reserveNow.reservationId)).toBe(true);
    expect(reserveNow.idTag).toMatch(/^.{1,20}$/);

    expect(await box.call("Authorize", { idTag: reserveNow.idTag })).toEqual({ idTagInfo: { status: "Accepted" } });
    expect(await box.call("Authorize", { idTag: "someone-else" })).toEqual({ idTagInfo: { status: "Invalid" } });

    const startId = await h.sendCommand("ot-1", "start", { reservationId: "res-1" });
    expect((await result("ot-1", startId)).payload.accepted).toBe(true);
    expect(got.find((c) => c.method === "RemoteStartTransaction")!.params).toEqual({ connectorId: 1, idTag: reserveNow.idTag });

    const startedAt = "2026-03-01T10:00:00.000Z";
    const start = (await box.call("StartTransaction", { connectorId: 1, idTag: reserveNow.idTag, meterStart: 12_000, reservationId: reserveNow.reservationId, timestamp: startedAt })) as any;
    expect(start.idTagInfo.status).toBe("Accepted");
    expect(Number.isInteger(start.transactionId)).toBe(true);
    const started = await waitFor(() => h.up("ot-1", "charging_started")[0], { what: "charging_started" });
    expect(started.payload).toMatchObject({ reservationId: "res-1", meterStartWh: 12_000, ts: startedAt });

    await box.call("MeterValues", {
      connectorId: 1,
      transactionId: start.transactionId,
      meterValue: [{ timestamp: "2026-03-01T10:05:00.000Z", sampledValue: [{ value: "12.5", unit: "kWh" }, { value: "7.2", measurand: "Power.Active.Import", unit: "kW" }] }],
    });
    await box.call("MeterValues", {
      connectorId: 1,
      transactionId: start.transactionId,
      meterValue: [{ timestamp: "2026-03-01T10:06:00.000Z", sampledValue: [{ value: "12600", measurand: "Energy.Active.Import.Register", unit: "Wh" }] }],
    });
    const meters = await waitFor(() => (h.up("ot-1", "meter").length === 2 ? h.up("ot-1", "meter") : undefined), { what: "meters" });
    expect(meters.map((m) => [m.payload.energyWh, m.payload.powerW])).toEqual([[12_500, 7_200], [12_600, 0]]);

    const stopId = await h.sendCommand("ot-1", "stop", { reservationId: "res-1" });
    expect((await result("ot-1", stopId)).payload.accepted).toBe(true);
    expect(got.find((c) => c.method === "RemoteStopTransaction")!.params).toEqual({ transactionId: start.transactionId });
    const stop = await box.call("StopTransaction", { transactionId: start.transactionId, meterStop: 13_000, timestamp: "2026-03-01T10:10:00.000Z", reason: "Remote" });
    expect(stop).toEqual({ idTagInfo: { status: "Accepted" } });
    const stopped = await waitFor(() => h.up("ot-1", "charging_stopped")[0], { what: "charging_stopped" });
    expect(stopped.payload).toMatchObject({ reservationId: "res-1", meterStopWh: 13_000, reason: "Remote", ts: "2026-03-01T10:10:00.000Z" });
    // the reservation's idTag is no longer live
    expect(await box.call("Authorize", { idTag: reserveNow.idTag })).toEqual({ idTagInfo: { status: "Invalid" } });
  });

  it("Occupied / Rejected answers become refused command_results with the status as reason; cancel → CancelReservation", async () => {
    const box = await h.connect("ot-2", await h.addCharger("ot-2"));
    const got = answering(box, { ReserveNow: "Occupied" });
    const refused = await h.sendCommand("ot-2", "reserve", { reservationId: "res-2", expiresAt: expiresAt() });
    expect((await result("ot-2", refused)).payload).toMatchObject({ accepted: false, reason: "Occupied" });
    const cancel = await h.sendCommand("ot-2", "cancel_reservation", { reservationId: "res-2" });
    expect((await result("ot-2", cancel)).payload.accepted).toBe(true);
    const ocppId = got.find((c) => c.method === "ReserveNow")!.params.reservationId;
    expect(got.find((c) => c.method === "CancelReservation")!.params).toEqual({ reservationId: ocppId });
  });

  it("a command for an offline box waits and goes out when it connects; an unanswered CALL is retried on reconnect", async () => {
    const secret = await h.addCharger("ot-3");
    await (await h.connect("ot-3", secret)).close();
    const id = await h.sendCommand("ot-3", "reserve", { reservationId: "res-3", expiresAt: expiresAt() });
    await waitFor(async () => ((await (await fetch(`http://127.0.0.1:${h.gateway.httpPort()}/healthz`)).json()) as any).pendingCommands === 1, { what: "stored" });

    // First connection never answers: the CALL times out (OCPP_CALL_TIMEOUT_SECONDS=1) and stays pending.
    const silent = await h.connect("ot-3", secret);
    const heard: any[] = [];
    silent.handle("ReserveNow", ({ params }: { params?: any }) => {
      heard.push(params);
      return new Promise(() => {}); // never answers
    });
    await waitFor(() => heard.length === 1, { what: "ReserveNow on the silent box" });
    await waitFor(async () => (await metric(h, "chargebridge_gateway_ocpp_command_answers_total", 'status="unanswered"')) === 1, { what: "timeout counted" });
    expect(h.up("ot-3", "command_result")).toHaveLength(0);
    await silent.close({ force: true });

    const box = await h.connect("ot-3", secret);
    const got = answering(box);
    expect((await result("ot-3", id)).payload.accepted).toBe(true);
    // the same gateway reservationId both times: the map is durable, not per call
    expect(got[0]!.params.reservationId).toBe(heard[0].reservationId);
  });

  it("transactionId is unique and kept across a gateway restart; a retried StartTransaction gets the same id", async () => {
    const secret = await h.addCharger("ot-4");
    let box = await h.connect("ot-4", secret);
    const got = answering(box);
    await result("ot-4", await h.sendCommand("ot-4", "reserve", { reservationId: "res-4", expiresAt: expiresAt() }));
    const { idTag, reservationId } = got[0]!.params;
    // An earlier transaction, then the one whose answer the box "loses" (ids must not restart at 1).
    const earlier = (await box.call("StartTransaction", { connectorId: 1, idTag, meterStart: 100, reservationId, timestamp: "2026-03-02T07:00:00.000Z" })) as any;
    const call = { connectorId: 1, idTag, meterStart: 500, reservationId, timestamp: "2026-03-02T08:00:00.000Z" };
    const first = (await box.call("StartTransaction", call)) as any;
    expect(first.transactionId).not.toBe(earlier.transactionId);

    await h.restart();
    box = await h.connect("ot-4", secret);
    // the box never saw the answer (say) and retries the same call under a new message id
    const retry = (await box.call("StartTransaction", call)) as any;
    expect(retry.transactionId).toBe(first.transactionId);
    await waitFor(() => h.up("ot-4", "charging_started").length === 3, { what: "all appends forwarded" });
    const ids = h.up("ot-4", "charging_started").map((e) => e.payload.id);
    expect(new Set(ids).size).toBe(2); // the retry has the first one's message id: Central applies it once, one session
    expect(ids[2]).toBe(ids[1]);

    // a different StartTransaction after the restart gets an id never given before
    const other = (await box.call("StartTransaction", { ...call, timestamp: "2026-03-02T09:00:00.000Z", meterStart: 900 })) as any;
    expect([earlier.transactionId, first.transactionId]).not.toContain(other.transactionId);
  });

  it("StopTransaction for an unknown transactionId (and −1) is still answered; an offline start without reservation gets an id and Invalid", async () => {
    const box = await h.connect("ot-5", await h.addCharger("ot-5"));
    expect(await box.call("StopTransaction", { transactionId: 987_654, meterStop: 1, timestamp: "2026-03-03T08:00:00.000Z" })).toEqual({});
    expect(await box.call("StopTransaction", { transactionId: -1, meterStop: 1, timestamp: "2026-03-03T08:00:00.000Z" })).toEqual({});
    const offline = (await box.call("StartTransaction", { connectorId: 1, idTag: "LOCALCARD", meterStart: 10, timestamp: "2026-03-03T07:00:00.000Z" })) as any;
    expect(offline.idTagInfo.status).toBe("Invalid");
    expect(Number.isInteger(offline.transactionId)).toBe(true);
    expect(await box.call("StopTransaction", { transactionId: offline.transactionId, meterStop: 20, timestamp: "2026-03-03T07:30:00.000Z" })).toEqual({});
    expect(h.up("ot-5", "charging_started")).toHaveLength(0);
    expect(h.up("ot-5", "charging_stopped")).toHaveLength(0);
    await waitFor(() => h.deadLetters.filter((r) => JSON.parse(r.value).cpId === "ot-5").length === 3, { what: "three dead letters" });
  });

  it("a box that never stops transactions answered Invalid: Finishing maps to available, and a new start ends the earlier one", async () => {
    // Seen with the SAP e-mobility simulator: local starts get Invalid, and no StopTransaction follows.
    const box = await h.connect("ot-6", await h.addCharger("ot-6"));
    const first = (await box.call("StartTransaction", { connectorId: 1, idTag: "LOCALCARD", meterStart: 10, timestamp: "2026-03-03T07:00:00.000Z" })) as any;
    expect(first.idTagInfo.status).toBe("Invalid");
    await box.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Finishing", timestamp: "2026-03-03T07:01:00.000Z" });
    const finishing = await waitFor(() => h.up("ot-6", "status").find((e) => e.payload.ts === "2026-03-03T07:01:00.000Z"), { what: "status for Finishing" });
    expect(finishing.payload.status).toBe("available"); // no ChargeBridge session is open on it
    const second = (await box.call("StartTransaction", { connectorId: 1, idTag: "LOCALCARD", meterStart: 20, timestamp: "2026-03-03T07:05:00.000Z" })) as any;
    expect(second.transactionId).not.toBe(first.transactionId);
    // The earlier transaction was ended by the new start: after a restart (which compacts the id
    // map to what is still open) only the second is open on the connector.
    await h.restart();
    const open = (await readFile(join(h.dataDir, "gateway", "ocpp-ids.jsonl"), "utf8"))
      .split("\n").filter(Boolean).map((l) => JSON.parse(l))
      .filter((e) => e.op === "tx" && e.t.box === "ot-6");
    expect(open.map((e) => e.t.txId)).toEqual([second.transactionId]);
  });

  it("a two-connector box charges on both connectors at once, as charge points box and box-2", async () => {
    const secret = await h.addCharger("ot-6");
    await h.addCharger("ot-6-2");
    const box = await h.connect("ot-6", secret);
    const got = answering(box);
    await box.call("StatusNotification", { connectorId: 2, errorCode: "NoError", status: "Available" });
    await result("ot-6", await h.sendCommand("ot-6", "reserve", { reservationId: "res-6a", expiresAt: expiresAt() }));
    await result("ot-6-2", await h.sendCommand("ot-6-2", "reserve", { reservationId: "res-6b", expiresAt: expiresAt() }));
    const [a, b] = got.map((c) => c.params);
    expect([a.connectorId, b.connectorId]).toEqual([1, 2]);
    const [ta, tb] = (await Promise.all([
      box.call("StartTransaction", { connectorId: 1, idTag: a.idTag, meterStart: 100, reservationId: a.reservationId, timestamp: "2026-03-04T08:00:00.000Z" }),
      box.call("StartTransaction", { connectorId: 2, idTag: b.idTag, meterStart: 200, reservationId: b.reservationId, timestamp: "2026-03-04T08:00:01.000Z" }),
    ])) as any[];
    expect(ta.transactionId).not.toBe(tb.transactionId);
    await waitFor(() => h.up("ot-6", "charging_started").length === 1 && h.up("ot-6-2", "charging_started").length === 1, { what: "two sessions" });
    expect(h.up("ot-6-2", "charging_started")[0].payload).toMatchObject({ reservationId: "res-6b", meterStartWh: 200 });
    await Promise.all([
      box.call("StopTransaction", { transactionId: ta.transactionId, meterStop: 1100, timestamp: "2026-03-04T09:00:00.000Z" }),
      box.call("StopTransaction", { transactionId: tb.transactionId, meterStop: 2200, timestamp: "2026-03-04T09:00:00.000Z" }),
    ]);
    await waitFor(() => h.up("ot-6", "charging_stopped").length === 1 && h.up("ot-6-2", "charging_stopped").length === 1, { what: "both stopped" });
    expect(h.up("ot-6-2", "charging_stopped")[0].payload).toMatchObject({ reservationId: "res-6b", meterStopWh: 2200 });
  });
});
