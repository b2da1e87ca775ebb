import { afterAll, describe, expect, it } from "vitest";
import { apiClient } from "../support/api-client.ts";
import { FaultRig } from "../support/fault-rig.ts";
import { killKafka, restartKafka } from "../support/kafka.ts";
import { createTestDatabase } from "../support/postgres-database.ts";
import { startProcess, type RunningProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The failure ChargeBridge was built to prevent: a driver reserves while Kafka is down, the charger
 * starts charging while Kafka is down, and the charge point must end up `charging`, not stuck in
 * `reserved`, once Kafka is back. Real Kafka (killed with SIGKILL), real PostgreSQL, Central and
 * gateway as separate processes, the charger on real MQTT.
 */
const TTL_SECONDS = 30;
const OPERATOR = "original-scenario-operator-token";

describe("the original scenario, end to end", { timeout: 300_000 }, () => {
  const rig = new FaultRig();
  let central: RunningProcess | undefined;
  let database: { url: string; drop(): Promise<void> } | undefined;

  afterAll(async () => {
    await central?.kill();
    await rig.close();
    await database?.drop();
  });

  it("ends charging, not stuck in reserved, after Kafka outages around the reservation and the start", async () => {
    await restartKafka(rig.kafka);
    database = await createTestDatabase("original");
    central = startProcess(
      "central/main.ts",
      {
        ...rig.topics,
        KAFKA_BROKERS: rig.brokers,
        DATABASE_URL: database.url,
        HTTP_PORT: "0",
        OPERATOR_TOKEN: OPERATOR,
        // Tests poll the API far faster than a driver app; the limiter has its own tests.
        DRIVER_RATE_PER_MINUTE: "0",
        RESERVATION_TTL_SECONDS: String(TTL_SECONDS),
        CENTRAL_GROUP_ID: `original-${rig.run}`,
      },
      "central",
    );
    await rig.startGateway();
    const ready = await central.waitForLog((l) => l.msg === "Central is running", 120_000, "ready");
    const api = apiClient(ready.apiUrl as string);

    // A charger, provisioned through the API; its hash reaches the gateway through Kafka.
    const cpId = "orig-cp";
    const charger = await rig.provisionAndConnect(api, OPERATOR, cpId);
    const commands: { type: string; id: string; reservationId: string }[] = [];
    charger.on("message", (topic, buf) => commands.push({ type: topic.split("/").pop()!, ...JSON.parse(buf.toString()) }));
    await charger.subscribeAsync(`chargebridge/v1/${cpId}/down/#`, { qos: 1 });
    let n = 0;
    const send = (type: string, fields: Record<string, unknown>, ts = new Date()) =>
      charger.publishAsync(`chargebridge/v1/${cpId}/up/${type}`, JSON.stringify({ id: `orig-${++n}`, ts: ts.toISOString(), ...fields }), { qos: 1 });
    await send("status", { status: "available" });
    await waitFor(async () => (await api("GET", `/v1/charge-points/${cpId}`, OPERATOR)).body.online === true, { timeoutMs: 60_000, what: "online" });

    // Kafka dies. The driver reserves and asks to start anyway: Central needs only its database.
    await killKafka(rig.kafka);
    const { body: driver } = await api("POST", "/v1/drivers", undefined, { name: "Driver during outage" });
    const reserved = await api("POST", "/v1/reservations", driver.token, { cpId });
    expect(reserved.status).toBe(201);
    const reservationId = reserved.body.reservationId as string;
    expect((await api("POST", `/v1/reservations/${reservationId}/start`, driver.token)).status).toBe(202);

    // Kafka returns: the commands waiting in Central's outbox reach the charger.
    await restartKafka(rig.kafka);
    await waitFor(() => commands.some((c) => c.type === "start" && c.reservationId === reservationId), {
      timeoutMs: 90_000,
      what: "start command after Kafka returned",
    });

    // Kafka dies again just as the charger starts charging: charging_started waits on the gateway's disk.
    await killKafka(rig.kafka);
    const startedAt = new Date();
    await send("charging_started", { reservationId, meterStartWh: 5_000 }, startedAt); // PUBACKed: it is on disk
    await send("status", { status: "charging" });
    expect((await rig.gatewayHealth()).queue.depth).toBeGreaterThanOrEqual(2);

    // Central never heard of the start, so at the expiry it rolls the reservation back.
    await waitFor(async () => (await api("GET", `/v1/reservations/${reservationId}`, driver.token)).body.status === "expired", {
      timeoutMs: (TTL_SECONDS + 30) * 1000,
      what: "rollback during the outage",
    });

    // Kafka returns; the start, judged by the charger's clock, happened before the expiry: honoured.
    await restartKafka(rig.kafka);
    await waitFor(async () => (await api("GET", `/v1/charge-points/${cpId}`, OPERATOR)).body.status === "charging", {
      timeoutMs: 90_000,
      what: "charge point charging after Kafka returned",
    });
    const reservation = (await api("GET", `/v1/reservations/${reservationId}`, driver.token)).body;
    expect(reservation.status).toBe("charging");
    const [session] = (await api("GET", "/v1/sessions", driver.token)).body;
    expect(session).toMatchObject({ reservationId, cpId, late: true, startedAt: startedAt.toISOString() });
    expect((await api("GET", `/v1/charge-points/${cpId}`, OPERATOR)).body.status).not.toBe("reserved");
  });
});
