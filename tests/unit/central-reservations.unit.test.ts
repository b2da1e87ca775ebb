import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expireDue } from "../../central/lifecycle/index.ts";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";

let h: CentralHarness;
beforeAll(async () => {
  h = await createCentralHarness({ RESERVATION_TTL_SECONDS: "60", CLOCK_SKEW_TOLERANCE_SECONDS: "5" });
});
afterAll(async () => h?.close());
beforeEach(async () => h.reset());

describe("Central reservation state machine", () => {
  it("reserves an available online charge point and sends reserve to the charger", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const res = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ cpId: "cp-1", status: "reserved" });
    expect(Date.parse(res.body.expiresAt) - h.clock.now()).toBe(60_000);
    const cp = await h.request("GET", "/v1/charge-points/cp-1", d.token);
    expect(cp.body).toMatchObject({ status: "reserved", online: true });
    const cmds = await h.commands("cp-1");
    expect(cmds.map((c) => c.type)).toEqual(["reserve"]);
    expect(cmds[0]!.payload).toMatchObject({ reservationId: res.body.reservationId, expiresAt: res.body.expiresAt });
  });

  it("refuses a second reservation of the same charge point with 409", async () => {
    await h.provision("cp-1");
    const a = await h.driver("A");
    const b = await h.driver("B");
    expect((await h.request("POST", "/v1/reservations", a.token, { cpId: "cp-1" })).status).toBe(201);
    const second = await h.request("POST", "/v1/reservations", b.token, { cpId: "cp-1" });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("charge_point_not_available");
  });

  it("picks any available charge point without cpId, and answers 409 when none is left", async () => {
    await h.provision("cp-1");
    await h.provision("cp-2");
    await h.provision("cp-off", false);
    const d = await h.driver();
    const picked = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const r = await h.request("POST", "/v1/reservations", d.token, {});
      expect(r.status).toBe(201);
      picked.add(r.body.cpId);
    }
    expect(picked).toEqual(new Set(["cp-1", "cp-2"]));
    const none = await h.request("POST", "/v1/reservations", d.token, {});
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe("no_charge_point_available");
  });

  it("does not reserve an offline or faulted charge point", async () => {
    await h.provision("cp-off", false);
    await h.provision("cp-f");
    await h.emit("cp-f", "fault", { code: "E42", message: "Overheating" });
    const d = await h.driver();
    const off = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-off" });
    expect(off.status).toBe(409);
    expect(off.body.error.message).toContain("offline");
    const faulted = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-f" });
    expect(faulted.status).toBe(409);
    const cp = await h.request("GET", "/v1/charge-points/cp-f", OPERATOR);
    expect(cp.body).toMatchObject({ status: "faulted", fault: { code: "E42", message: "Overheating" } });
    await h.emit("cp-f", "fault_cleared");
    expect((await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-f" })).status).toBe(201);
  });

  it("runs reserve, start, charging_started, meter, charging_stopped to a completed session", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    const start = await h.request("POST", `/v1/reservations/${r.reservationId}/start`, d.token);
    expect(start.status).toBe(202);
    expect((await h.commands("cp-1")).map((c) => c.type)).toEqual(["reserve", "start"]);

    await h.emit("cp-1", "charging_started", { reservationId: r.reservationId, meterStartWh: 1000 });
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body.status).toBe("charging");
    expect((await h.request("GET", "/v1/charge-points/cp-1", d.token)).body.status).toBe("charging");
    await h.emit("cp-1", "meter", { reservationId: r.reservationId, energyWh: 1500, powerW: 11000 });
    let sessions = (await h.request("GET", "/v1/sessions", d.token)).body;
    expect(sessions[0]).toMatchObject({ reservationId: r.reservationId, energyWh: 500, stoppedAt: null });

    expect((await h.request("POST", `/v1/reservations/${r.reservationId}/stop`, d.token)).status).toBe(202);
    await h.emit("cp-1", "charging_stopped", { reservationId: r.reservationId, meterStopWh: 3200, reason: "remote" });
    sessions = (await h.request("GET", "/v1/sessions", d.token)).body;
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ cpId: "cp-1", energyWh: 2200, stopReason: "remote" });
    expect(sessions[0].stoppedAt).not.toBeNull();
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body.status).toBe("completed");
    expect((await h.request("GET", "/v1/charge-points/cp-1", d.token)).body.status).toBe("available");
  });

  it("rolls back a reservation that is not started by its expiry", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    h.clock.advance(59_000);
    expect(await expireDue(h.central.ctx)).toBe(0);
    h.clock.advance(1_000);
    expect(await expireDue(h.central.ctx)).toBe(1);
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body).toMatchObject({
      status: "expired",
      endReason: "not_started_in_time",
    });
    expect((await h.request("GET", "/v1/charge-points/cp-1", d.token)).body.status).toBe("available");
    const cmds = await h.commands("cp-1");
    expect(cmds.map((c) => c.type)).toEqual(["reserve", "cancel_reservation"]);
    expect(cmds[1]!.payload.reservationId).toBe(r.reservationId);
    expect(await expireDue(h.central.ctx)).toBe(0);
    // and a start request for it is refused
    expect((await h.request("POST", `/v1/reservations/${r.reservationId}/start`, d.token)).status).toBe(409);
  });

  it("cancels a reservation that has not started, and not one that has", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    const del = await h.request("DELETE", `/v1/reservations/${r.reservationId}`, d.token);
    expect(del.status).toBe(200);
    expect(del.body.status).toBe("cancelled");
    expect((await h.request("GET", "/v1/charge-points/cp-1", d.token)).body.status).toBe("available");
    expect((await h.commands("cp-1")).map((c) => c.type)).toEqual(["reserve", "cancel_reservation"]);

    const { body: r2 } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    await h.emit("cp-1", "charging_started", { reservationId: r2.reservationId, meterStartWh: 0 });
    expect((await h.request("DELETE", `/v1/reservations/${r2.reservationId}`, d.token)).status).toBe(409);
  });

  it("applies a message id once, however often it is delivered", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    await h.emit("cp-1", "charging_started", { reservationId: r.reservationId, meterStartWh: 100 }, { id: "dup-1" });
    await h.emit("cp-1", "charging_stopped", { reservationId: r.reservationId, meterStopWh: 300, reason: "local" }, { id: "dup-2" });
    // replay of the start after the stop (a gateway replaying its queue after a crash)
    await h.emit("cp-1", "charging_started", { reservationId: r.reservationId, meterStartWh: 100 }, { id: "dup-1" });
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body.status).toBe("completed");
    expect((await h.request("GET", "/v1/charge-points/cp-1", d.token)).body.status).toBe("available");
    const dupes = await h.central.ctx.metrics.eventsDuplicate.get();
    expect(dupes.values[0]?.value).toBeGreaterThanOrEqual(1);
  });

  it("honours a charging_started that happened before expiry but arrived after the rollback", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    const startedAt = new Date(h.clock.now() + 30_000);
    h.clock.advance(90_000);
    await expireDue(h.central.ctx);
    const other = await h.driver("Other");
    const { body: r2 } = await h.request("POST", "/v1/reservations", other.token, { cpId: "cp-1" });
    expect(r2.status).toBe("reserved");

    await h.emit("cp-1", "charging_started", { reservationId: r.reservationId, meterStartWh: 10 }, { ts: startedAt });
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body.status).toBe("charging");
    const preempted = (await h.request("GET", `/v1/reservations/${r2.reservationId}`, other.token)).body;
    expect(preempted).toMatchObject({ status: "cancelled", endReason: "charge_point_taken_by_earlier_session" });
    const sessions = (await h.request("GET", "/v1/sessions", d.token)).body;
    expect(sessions[0]).toMatchObject({ late: true, startedAt: startedAt.toISOString() });
    expect((await h.request("GET", "/v1/charge-points/cp-1", d.token)).body.status).toBe("charging");
  });

  it("answers a charging_started for a truly expired or unknown reservation with stop", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    h.clock.advance(120_000);
    await expireDue(h.central.ctx);
    // happened after expiry + tolerance, by the charger's own clock
    await h.emit("cp-1", "charging_started", { reservationId: r.reservationId, meterStartWh: 10 });
    await h.emit("cp-1", "charging_started", { reservationId: "res_unknown", meterStartWh: 10 });
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body.status).toBe("expired");
    const stops = (await h.commands("cp-1")).filter((c) => c.type === "stop").map((c) => c.payload.reservationId);
    expect(stops).toEqual([r.reservationId, "res_unknown"]);
    expect((await h.request("GET", "/v1/charge-points/cp-1", d.token)).body.status).toBe("available");
  });

  it("cancels an unstarted reservation when its charge point faults", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    await h.emit("cp-1", "fault", { code: "GFCI", message: "Ground fault" });
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body).toMatchObject({
      status: "cancelled",
      endReason: "charge_point_faulted",
    });
    expect((await h.commands("cp-1")).map((c) => c.type)).toEqual(["reserve", "cancel_reservation"]);
  });

  it("shows a charger offline when the gateway reports it gone, ignoring stale presence", async () => {
    await h.provision("cp-1");
    const t0 = h.clock.now();
    h.clock.advance(1_000);
    await h.presence("cp-1", false);
    expect((await h.request("GET", "/v1/charge-points/cp-1", OPERATOR)).body.online).toBe(false);
    // an "online" stamped before the "offline" arrives late and changes nothing
    h.clock.set(t0);
    await h.presence("cp-1", true);
    expect((await h.request("GET", "/v1/charge-points/cp-1", OPERATOR)).body.online).toBe(false);
  });
});

describe("reconciliation: physical state wins", () => {
  it("cancels a reservation the charger no longer holds, and shows the conflict", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    // in flight: a status sent before the charger got `reserve` is not a conflict
    await h.emit("cp-1", "status", { status: "available" });
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body.status).toBe("reserved");
    // after a reboot the charger reports available, well after the reservation was made
    h.clock.advance(10_000);
    await h.emit("cp-1", "boot", { vendor: "V", model: "M", firmware: "2" });
    await h.emit("cp-1", "status", { status: "available" });
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body).toMatchObject({
      status: "cancelled",
      endReason: "charger_lost_reservation",
    });
    const cp = (await h.request("GET", "/v1/charge-points/cp-1", OPERATOR)).body;
    expect(cp).toMatchObject({ status: "available", firmware: "2", conflict: { kind: "reservation_lost" } });
    const counted = await h.central.ctx.metrics.conflicts.get();
    expect(counted.values.find((v) => v.labels.kind === "reservation_lost")?.value).toBe(1);
  });

  it("treats a charger going available at the reservation's expiry as its own no-show expiry, not a conflict", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    h.clock.advance(60_000);
    await h.emit("cp-1", "status", { status: "available" });
    expect((await h.request("GET", "/v1/charge-points/cp-1", OPERATOR)).body.conflict).toBeNull();
    await expireDue(h.central.ctx);
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body).toMatchObject({
      status: "expired",
      endReason: "not_started_in_time",
    });
  });

  it("takes a charger that charges without a session out of service until it is available again", async () => {
    await h.provision("cp-1");
    await h.emit("cp-1", "status", { status: "charging" });
    const cp = (await h.request("GET", "/v1/charge-points/cp-1", OPERATOR)).body;
    expect(cp).toMatchObject({ status: "unavailable", conflict: { kind: "charging_without_session" } });
    const d = await h.driver();
    expect((await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" })).status).toBe(409);
    h.clock.advance(1_000);
    await h.emit("cp-1", "status", { status: "available" });
    expect((await h.request("GET", "/v1/charge-points/cp-1", OPERATOR)).body).toMatchObject({ status: "available", conflict: null });
  });

  it("closes a session the charger is no longer running with the last metered energy", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-1" });
    await h.emit("cp-1", "charging_started", { reservationId: r.reservationId, meterStartWh: 100 });
    await h.emit("cp-1", "meter", { reservationId: r.reservationId, energyWh: 900, powerW: 7000 });
    h.clock.advance(60_000);
    await h.emit("cp-1", "status", { status: "available" });
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token)).body.status).toBe("completed");
    const [s] = (await h.request("GET", "/v1/sessions", d.token)).body;
    expect(s).toMatchObject({ energyWh: 800, stopReason: "reconciled" });
    expect((await h.request("GET", "/v1/charge-points/cp-1", OPERATOR)).body.status).toBe("available");
  });

  it("ignores a status report older than the last one", async () => {
    await h.provision("cp-1");
    const t = new Date(h.clock.now());
    await h.emit("cp-1", "status", { status: "faulted" });
    await h.emit("cp-1", "status", { status: "available" }, { ts: new Date(t.getTime() - 1_000) });
    expect((await h.request("GET", "/v1/charge-points/cp-1", OPERATOR)).body.status).toBe("faulted");
  });
});
