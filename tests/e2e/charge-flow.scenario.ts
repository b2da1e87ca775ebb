import { expect } from "vitest";
import type { ApiCall } from "../support/api-client.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The driver-app flow of wire contract v1, over real HTTP against chargers on real MQTT.
 * Shared by the embedded run (npm start) and the production run (Kafka + PostgreSQL).
 */
export async function expectChargersOnline(api: ApiCall, operatorToken: string, cpIds: string[]): Promise<void> {
  await waitFor(
    async () => {
      const res = await api("GET", "/v1/charge-points", operatorToken);
      const online = new Set((res.body as { cpId: string; online: boolean; status: string }[]).filter((c) => c.online && c.status === "available").map((c) => c.cpId));
      return cpIds.every((id) => online.has(id));
    },
    { timeoutMs: 30_000, what: `chargers ${cpIds.join(", ")} online and available` },
  );
}

export async function runChargeFlow(api: ApiCall, cpId: string): Promise<void> {
  const driver = await api("POST", "/v1/drivers", undefined, { name: "Grace" });
  expect(driver.status).toBe(201);
  const token = driver.body.token as string;

  const list = await api("GET", "/v1/charge-points", token);
  expect(list.status).toBe(200);
  expect(list.body.some((c: { cpId: string }) => c.cpId === cpId)).toBe(true);

  const reserved = await api("POST", "/v1/reservations", token, { cpId });
  expect(reserved.status).toBe(201);
  expect(reserved.body).toMatchObject({ cpId, status: "reserved" });
  const id = reserved.body.reservationId as string;
  expect((await api("GET", `/v1/charge-points/${cpId}`, token)).body.status).toBe("reserved");
  // the charger acknowledged the reserve command and says so itself
  await waitFor(async () => (await api("GET", `/v1/charge-points/${cpId}`, token)).body.reportedStatus === "reserved", {
    timeoutMs: 15_000,
    what: "charger to report reserved",
  });

  expect((await api("POST", `/v1/reservations/${id}/start`, token)).status).toBe(202);
  await waitFor(async () => (await api("GET", `/v1/reservations/${id}`, token)).body.status === "charging", {
    timeoutMs: 15_000,
    what: "reservation charging",
  });
  expect((await api("GET", `/v1/charge-points/${cpId}`, token)).body.status).toBe("charging");
  await waitFor(async () => ((await api("GET", "/v1/sessions", token)).body[0]?.energyWh ?? 0) > 0, {
    timeoutMs: 15_000,
    what: "meter values to add energy",
  });

  expect((await api("POST", `/v1/reservations/${id}/stop`, token)).status).toBe(202);
  await waitFor(async () => (await api("GET", `/v1/reservations/${id}`, token)).body.status === "completed", {
    timeoutMs: 15_000,
    what: "reservation completed",
  });
  const sessions = (await api("GET", "/v1/sessions", token)).body;
  expect(sessions).toHaveLength(1);
  expect(sessions[0]).toMatchObject({ reservationId: id, cpId });
  expect(sessions[0].energyWh).toBeGreaterThan(0);
  expect(sessions[0].stoppedAt).not.toBeNull();
  await waitFor(async () => (await api("GET", `/v1/charge-points/${cpId}`, token)).body.status === "available", {
    timeoutMs: 10_000,
    what: "charge point available again",
  });
}

/** A reservation nobody starts rolls back by itself: expired, charge point free, charger told. */
export async function runTimeoutRollback(api: ApiCall, ttlSeconds: number): Promise<void> {
  const { body: d } = await api("POST", "/v1/drivers", undefined, { name: "No-show" });
  const reserved = await api("POST", "/v1/reservations", d.token, {});
  expect(reserved.status).toBe(201);
  const { reservationId, cpId, expiresAt } = reserved.body;
  await waitFor(async () => (await api("GET", `/v1/charge-points/${cpId}`, d.token)).body.reportedStatus === "reserved", {
    timeoutMs: 15_000,
    what: "charger to report reserved",
  });
  await waitFor(async () => (await api("GET", `/v1/reservations/${reservationId}`, d.token)).body.status === "expired", {
    timeoutMs: (ttlSeconds + 10) * 1000,
    what: "reservation to expire",
  });
  const cp = await waitFor(
    async () => {
      const body = (await api("GET", `/v1/charge-points/${cpId}`, d.token)).body;
      return body.status === "available" ? body : null;
    },
    { timeoutMs: 5_000, what: "charge point available after rollback" },
  );
  // MQTT-delivered cancel_reservation made the charger itself go back to available
  await waitFor(async () => (await api("GET", `/v1/charge-points/${cpId}`, d.token)).body.reportedStatus === "available", {
    timeoutMs: 15_000,
    what: "charger to report available after cancel_reservation",
  });
  expect(cp.status).toBe("available");
  const expiredAt = Date.parse((await api("GET", `/v1/reservations/${reservationId}`, d.token)).body.endedAt);
  // issue 5: a rollback happens within 1 s of expiry (the sweep runs every 500 ms)
  expect(expiredAt - Date.parse(expiresAt)).toBeLessThan(1_000);
}
