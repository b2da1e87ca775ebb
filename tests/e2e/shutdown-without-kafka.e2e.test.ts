import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultRig, freePort, publishNumbered } from "../support/fault-rig.ts";
import { createTestDatabase } from "../support/postgres-database.ts";
import { startProcess, type RunningProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

/**
 * An operator restarts a process while Kafka is unreachable (an outage, a wrong address). SIGTERM
 * must still end it promptly with exit 0, and nothing a charger was told is kept may be lost: a
 * shutdown that waits for Kafka would hang until the orchestrator's SIGKILL.
 */
describe("graceful shutdown while Kafka cannot be reached", { timeout: 120_000 }, () => {
  let rig: FaultRig;
  let central: RunningProcess | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // A port just found free, where no Kafka runs: other files' rigs derive theirs from their pids.
    rig = new FaultRig(await freePort());
  });

  afterAll(async () => {
    await central?.kill();
    await rig?.close();
    await dropDatabase?.();
  });

  it("stops a gateway holding acknowledged messages with exit 0, and they are still queued after a restart", async () => {
    await rig.seedCredentials({ "down-cp-1": "secret-down" });
    await rig.startGateway();
    expect((await rig.gatewayHealth()).subscriptions).toEqual({ credentials: "joining", commands: "joining" });
    const client = await rig.connect("down-cp-1", "secret-down");
    const acked = await publishNumbered(client, "down-cp-1", 0, 25);
    expect(acked).toHaveLength(25);
    client.end(true);
    // Once the gateway saw the charger leave, its offline presence event is queued too.
    await waitFor(async () => (await rig.gatewayHealth()).chargers === 0, { what: "charger gone" });
    const held = (await rig.gatewayHealth()).queue.depth;
    expect(held).toBeGreaterThanOrEqual(25);

    // Exit 0, not 1: the process finished its stop before its own 15 s shutdown deadline, which
    // exits 1 (platform/shutdown.ts), while its subscriptions were still joining.
    const code = await rig.gateway!.stop(30_000);
    expect(code, rig.gateway!.output.slice(-15).join("\n")).toBe(0);

    await rig.startGateway();
    // the 25 heartbeats and the charger's presence events, exactly as many as before the stop
    expect((await rig.gatewayHealth()).queue.depth).toBe(held);
    expect(await rig.gateway!.stop(30_000)).toBe(0);
  });

  it("stops Central with exit 0 while its consumer, its outbox and its credentials wait for Kafka", async () => {
    const db = await createTestDatabase("shutdown");
    dropDatabase = db.drop;
    central = startProcess(
      "central/main.ts",
      { DATABASE_URL: db.url, KAFKA_BROKERS: `127.0.0.1:${await freePort()}`, HTTP_PORT: "0", OPERATOR_TOKEN: "shutdown-test-operator-token" },
      "central",
    );
    const running = await central.waitForLog((l) => l.msg === "Central is running", 60_000, "running");
    const apiUrl = running.apiUrl as string;
    const health = await waitFor(async () => (await fetch(`${apiUrl}/healthz`)).json() as Promise<{ subscriptions: Record<string, string> }>, {
      what: "Central /healthz",
    });
    expect(health.subscriptions.events).toBe("joining");
    expect((await fetch(`${apiUrl}/readyz`)).status).toBe(503);
    // A new charger's credentials, and a command in the outbox, both wait for Kafka.
    const provisioned = await fetch(`${apiUrl}/v1/charge-points`, {
      method: "POST",
      headers: { authorization: "Bearer shutdown-test-operator-token", "content-type": "application/json" },
      body: JSON.stringify({ cpId: "down-cp-central" }),
    });
    expect(provisioned.status).toBe(201);
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    await sql.unsafe(
      `INSERT INTO commands (command_id, cp_id, type, payload, created_at) VALUES ('cmd-down', 'down-cp-central', 'stop', '{"id":"cmd-down","ts":"2026-11-28T12:00:00Z","reservationId":"r"}'::jsonb, now())`,
    );
    // The outbox leases it and is then stuck in a publish that Kafka cannot answer.
    await waitFor(async () => (await sql.unsafe("SELECT 1 FROM commands WHERE command_id = 'cmd-down' AND claimed_until IS NOT NULL")).length === 1, {
      what: "the outbox holding the command",
    });
    await sql.end();
    expect(await central.stop(30_000)).toBe(0); // 1 if its shutdown deadline had passed
  });
});
