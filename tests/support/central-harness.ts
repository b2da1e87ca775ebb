import { createCentral, loadCentralConfig, type Central } from "../../central/index.ts";
import { openPgliteDb } from "../../central/db/pglite-db.ts";
import { migrate } from "../../central/db/migrations.ts";
import type { Db } from "../../central/db/db.ts";
import { applyBusRecord } from "../../central/events/apply-bus-record.ts";
import { ManualClock } from "../../platform/clock.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
import { DEFAULT_TOPICS, type UpEvent } from "../../protocol/index.ts";

export const OPERATOR = "operator-token-for-tests-0123456789";

/**
 * Central in-process on a real (embedded) PostgreSQL, with a clock the test moves. Events are
 * applied directly, so each step is deterministic; the bus path is covered end to end elsewhere.
 */
export interface CentralHarness {
  central: Central;
  clock: ManualClock;
  db: Db;
  /** The bus Central publishes commands and credentials on. */
  bus: InProcessBus;
  request(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }>;
  provision(cpId: string, online?: boolean): Promise<string>;
  presence(cpId: string, online: boolean): Promise<void>;
  /** `envelope`: added envelope fields, as a gateway sets them (transport, chargeBox, connectorId). */
  emit(cpId: string, type: string, fields?: Record<string, unknown>, opts?: { id?: string; ts?: Date; envelope?: Record<string, unknown> }): Promise<string>;
  driver(name?: string): Promise<{ driverId: string; token: string }>;
  commands(cpId?: string): Promise<{ type: string; payload: any }[]>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function createCentralHarness(env: Record<string, string> = {}, shared?: Db): Promise<CentralHarness> {
  const db = shared ?? (await openPgliteDb());
  await migrate(db);
  const clock = new ManualClock(Date.parse("2026-06-01T12:00:00Z"));
  const bus = new InProcessBus();
  const config = loadCentralConfig({ OPERATOR_TOKEN: OPERATOR, RESERVATION_TTL_SECONDS: "120", ...env });
  const central = await createCentral({ config, bus, db, clock });
  let n = 0;

  const h: CentralHarness = {
    central,
    clock,
    db,
    bus,
    async request(method, path, token, body) {
      const res = await central.app.request(path, {
        method,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async provision(cpId, online = true) {
      const res = await h.request("POST", "/v1/charge-points", OPERATOR, { cpId });
      if (res.status !== 201) throw new Error(`provision failed: ${JSON.stringify(res.body)}`);
      if (online) await h.presence(cpId, true);
      return res.body.mqtt.password;
    },
    async presence(cpId, online) {
      const value = JSON.stringify({ kind: "presence", cpId, online, gatewayId: "gw-test", at: new Date(clock.now()).toISOString() });
      await applyBusRecord(central.ctx, value);
    },
    async emit(cpId, type, fields = {}, opts = {}) {
      const id = opts.id ?? `m-${++n}`;
      const event: UpEvent = {
        kind: "up",
        cpId,
        type,
        payload: { id, ts: (opts.ts ?? new Date(clock.now())).toISOString(), ...fields },
        gatewayId: "gw-test",
        receivedAt: new Date(clock.now()).toISOString(),
      };
      const outcome = await applyBusRecord(central.ctx, JSON.stringify({ ...event, ...opts.envelope }));
      if (outcome.result === "invalid") throw new Error(`event refused: ${outcome.reason}`);
      return id;
    },
    async driver(name = "Ada") {
      const res = await h.request("POST", "/v1/drivers", undefined, { name });
      return res.body;
    },
    async commands(cpId) {
      const rows = await db.query<{ type: string; payload: any; cp_id: string }>(
        "SELECT type, payload, cp_id FROM commands ORDER BY seq",
      );
      return rows.filter((r) => !cpId || r.cp_id === cpId).map((r) => ({ type: r.type, payload: r.payload }));
    },
    async reset() {
      await db.query(
        "TRUNCATE sessions, reservations, commands, processed_messages, drivers, charge_points CASCADE",
      );
    },
    async close() {
      await central.stop();
      await bus.close();
      if (!shared) await db.close();
    },
  };
  return h;
}

export { DEFAULT_TOPICS };
