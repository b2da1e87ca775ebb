import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";
import { SseReader } from "../support/sse-client.ts";

/** The live stream in-process on PGlite: app.request() responses read as SSE. */
describe("GET /v1/stream (PGlite, in-process)", () => {
  let h: CentralHarness;
  const open: SseReader[] = [];

  async function stream(headers: Record<string, string>, query = ""): Promise<SseReader> {
    const res = await h.central.app.request(`/v1/stream${query}`, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = new SseReader(res.body!);
    open.push(reader);
    return reader;
  }
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    h = await createCentralHarness({ STREAM_KEEPALIVE_SECONDS: "0.2", STREAM_CLIENT_BUFFER_BYTES: "8192" });
  });
  beforeEach(async () => {
    for (const r of open.splice(0)) r.close();
    await h.reset();
  });
  afterAll(async () => {
    for (const r of open.splice(0)) r.close();
    await h.close();
  });

  it("refuses a stream without auth (401) or with a bad token", async () => {
    expect((await h.central.app.request("/v1/stream")).status).toBe(401);
    expect((await h.central.app.request("/v1/stream", { headers: bearer("nope") })).status).toBe(401);
    expect((await h.central.app.request("/v1/stream?ticket=forged")).status).toBe(401);
  });

  it("shows a driver's reservation go reserved → charging → completed, with charge point and session events", async () => {
    await h.provision("cp-s1");
    const d = await h.driver("Ada");
    const s = await stream(bearer(d.token));
    const snapshot = await s.next((e) => e.event === "snapshot", "snapshot");
    expect(snapshot.id).toMatch(/^\d+$/);
    expect(snapshot.data.chargePoints.map((c: any) => c.cpId)).toEqual(["cp-s1"]);
    expect(snapshot.data.reservations).toEqual([]);
    expect(snapshot.data.gateways).toBeUndefined();

    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-s1" });
    await s.next((e) => e.event === "reservation" && e.data.status === "reserved", "reserved");
    await s.next((e) => e.event === "charge_point" && e.data.cpId === "cp-s1" && e.data.status === "reserved", "cp reserved");
    await h.request("POST", `/v1/reservations/${r.reservationId}/start`, d.token);
    await h.emit("cp-s1", "charging_started", { reservationId: r.reservationId, meterStartWh: 1000 });
    await h.emit("cp-s1", "meter", { reservationId: r.reservationId, energyWh: 1500, powerW: 11000 });
    await s.next((e) => e.event === "session" && e.data.energyWh === 500, "session energy");
    await h.request("POST", `/v1/reservations/${r.reservationId}/stop`, d.token);
    await h.emit("cp-s1", "charging_stopped", { reservationId: r.reservationId, meterStopWh: 3200, reason: "remote" });
    await s.next((e) => e.event === "reservation" && e.data.status === "completed", "completed");
    await s.next((e) => e.event === "session" && e.data.stopReason === "remote", "session closed");
    await s.next((e) => e.event === "charge_point" && e.data.status === "available", "cp available again");

    const statuses = s.of("reservation").map((e) => e.data.status);
    expect(statuses).toEqual(["reserved", "charging", "completed"]);
    // The same view as GET /v1/reservations/{id}.
    const rest = await h.request("GET", `/v1/reservations/${r.reservationId}`, d.token);
    expect(s.of("reservation").at(-1)!.data).toEqual(rest.body);
    const cp = await h.request("GET", "/v1/charge-points/cp-s1", d.token);
    expect(s.of("charge_point").at(-1)!.data).toEqual(cp.body);
    const sessions = await h.request("GET", "/v1/sessions", d.token);
    expect(s.of("session").at(-1)!.data).toEqual(sessions.body[0]);
    // Ids increase, so Last-Event-ID means "everything up to here".
    const ids = s.events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it("carries a charge point's transport and connector in its charge_point event, as GET shows them", async () => {
    await h.provision("box-t");
    await h.provision("box-t-2");
    const s = await stream(bearer(OPERATOR));
    await s.next((e) => e.event === "snapshot", "snapshot");
    await h.emit("box-t-2", "status", { status: "available" }, { envelope: { transport: "ocpp1.6", chargeBox: "box-t", connectorId: 2 } });
    const event = await s.next((e) => e.event === "charge_point" && e.data.cpId === "box-t-2" && e.data.reportedStatus === "available", "box-t-2 status");
    expect(event.data).toMatchObject({ transport: "ocpp1.6", connector: { chargeBox: "box-t", connectorId: 2 } });
    expect(event.data).toEqual((await h.request("GET", "/v1/charge-points/box-t-2", OPERATOR)).body);
    const later = await stream(bearer(OPERATOR));
    const snapshot = await later.next((e) => e.event === "snapshot", "snapshot");
    expect(snapshot.data.chargePoints.find((c: any) => c.cpId === "box-t-2")).toMatchObject({ transport: "ocpp1.6", connector: { chargeBox: "box-t", connectorId: 2 } });
  });

  it("never carries another driver's reservation or session; an operator's stream carries both", async () => {
    await h.provision("cp-a");
    await h.provision("cp-b");
    const ada = await h.driver("Ada");
    const bob = await h.driver("Bob");
    const adaStream = await stream(bearer(ada.token));
    const opStream = await stream(bearer(OPERATOR));
    await adaStream.next((e) => e.event === "snapshot");
    const opSnap = await opStream.next((e) => e.event === "snapshot");
    expect(opSnap.data.gateways).toEqual([]);

    const { body: rb } = await h.request("POST", "/v1/reservations", bob.token, { cpId: "cp-b" });
    const { body: ra } = await h.request("POST", "/v1/reservations", ada.token, { cpId: "cp-a" });
    await adaStream.next((e) => e.event === "reservation" && e.data.reservationId === ra.reservationId, "ada's own");
    await opStream.next((e) => e.event === "reservation" && e.data.reservationId === rb.reservationId, "operator sees bob's");
    await opStream.next((e) => e.event === "reservation" && e.data.reservationId === ra.reservationId, "operator sees ada's");
    // Bob's charge point going reserved is public; his reservation is not.
    await adaStream.next((e) => e.event === "charge_point" && e.data.cpId === "cp-b" && e.data.status === "reserved", "cp-b reserved");
    expect(adaStream.of("reservation").map((e) => e.data.reservationId)).toEqual([ra.reservationId]);
    expect(JSON.stringify(adaStream.events)).not.toContain(rb.reservationId);

    // A fresh connection's snapshot is filtered the same way.
    const later = await stream(bearer(ada.token));
    const snap = await later.next((e) => e.event === "snapshot");
    expect(snap.data.reservations.map((r: any) => r.reservationId)).toEqual([ra.reservationId]);
  });

  it("resumes from Last-Event-ID with exactly what was missed, and sends a snapshot for an unknown id", async () => {
    await h.provision("cp-r");
    const d = await h.driver();
    const first = await stream(bearer(d.token));
    await first.next((e) => e.event === "snapshot");
    const { body: r } = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-r" });
    await first.next((e) => e.event === "reservation" && e.data.status === "reserved");
    await first.next((e) => e.event === "charge_point" && e.data.status === "reserved");
    const last = first.lastId()!;
    first.close();

    // Missed while away: the start, charging_started.
    await h.request("POST", `/v1/reservations/${r.reservationId}/start`, d.token);
    await h.emit("cp-r", "charging_started", { reservationId: r.reservationId, meterStartWh: 0 });

    const resumed = await stream({ ...bearer(d.token), "last-event-id": last });
    await resumed.next((e) => e.event === "reservation" && e.data.status === "charging", "missed charging");
    expect(resumed.of("snapshot")).toHaveLength(0);
    expect(resumed.events.every((e) => e.id === undefined || Number(e.id) > Number(last))).toBe(true);
    expect(resumed.of("session")).toHaveLength(1);

    const stale = await stream({ ...bearer(d.token), "last-event-id": "999999999" });
    const snap = await stale.next((e) => e.event === "snapshot", "snapshot for an unknown id");
    expect(snap.data.reservations[0]).toMatchObject({ reservationId: r.reservationId, status: "charging" });
  });

  it("tickets: one use, then refused; expired ones refused; never a bearer token", async () => {
    const d = await h.driver();
    expect((await h.request("POST", "/v1/stream-tickets")).status).toBe(401);
    const t = await h.request("POST", "/v1/stream-tickets", d.token);
    expect(t.status).toBe(201);
    expect(t.body.url).toBe(`/v1/stream?ticket=${encodeURIComponent(t.body.ticket)}`);
    const s = await stream({}, `?ticket=${encodeURIComponent(t.body.ticket)}`);
    await s.next((e) => e.event === "snapshot");
    // Replayed: refused.
    expect((await h.central.app.request(`/v1/stream?ticket=${encodeURIComponent(t.body.ticket)}`)).status).toBe(401);
    // A ticket is not a token.
    expect((await h.request("GET", "/v1/sessions", t.body.ticket)).status).toBe(401);
    // Expired: refused.
    const t2 = await h.request("POST", "/v1/stream-tickets", OPERATOR);
    h.clock.advance(61_000);
    expect((await h.central.app.request(`/v1/stream?ticket=${encodeURIComponent(t2.body.ticket)}`)).status).toBe(401);
    // An operator ticket within its life gives an operator stream.
    const t3 = await h.request("POST", "/v1/stream-tickets", OPERATOR);
    const op = await stream({}, `?ticket=${encodeURIComponent(t3.body.ticket)}`);
    expect((await op.next((e) => e.event === "snapshot")).data.gateways).toEqual([]);
  });

  it("sends keep-alive comments on an idle stream", async () => {
    const s = await stream(bearer(OPERATOR));
    await s.next((e) => e.event === "snapshot");
    await s.next(() => s.comments >= 2, "two keep-alive comments");
  });

  it("disconnects a client that does not read once its buffer passes the bound; it resumes with Last-Event-ID", async () => {
    await h.provision("cp-slow");
    const d = await h.driver();
    // Read once (the snapshot), then never again: every later change queues for it.
    const res = await h.central.app.request("/v1/stream", { headers: bearer(d.token) });
    expect(res.status).toBe(200);
    const body = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("event: snapshot")) text += decoder.decode((await body.read()).value);
    const before = await streamDisconnects("slow_client");
    for (let i = 0; i < 40; i++) {
      await h.presence("cp-slow", i % 2 === 0 ? false : true);
      h.clock.advance(1_000);
    }
    const { waitFor } = await import("../support/wait.ts");
    await waitFor(async () => (await streamDisconnects("slow_client")) > before, { what: "slow client disconnected" });
    // The stream ends; what was queued went with it, so memory held for it stayed under the bound.
    let rest = 0;
    for (;;) {
      const { value, done } = await body.read();
      if (done) break;
      rest += value.length;
    }
    expect(rest).toBeLessThan(8192);
    const last = [...text.matchAll(/^id: (\d+)$/gm)].at(-1)?.[1];
    expect(last).toBeDefined();
    const resumed = await stream({ ...bearer(d.token), "last-event-id": last! });
    await resumed.next(() => resumed.of("charge_point").filter((c) => c.data.cpId === "cp-slow").length >= 40, "missed changes replayed");
    expect(resumed.of("snapshot")).toHaveLength(0);
  });

  async function streamDisconnects(reason: string): Promise<number> {
    const text = await (await h.central.app.request("/metrics")).text();
    const line = text.split("\n").find((l) => l.startsWith("chargebridge_central_stream_disconnects_total{") && l.includes(`reason="${reason}"`));
    return line ? Number(line.split(" ").at(-1)) : 0;
  }
});
