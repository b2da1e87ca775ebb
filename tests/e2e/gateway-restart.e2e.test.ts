import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/fault-rig.ts";
import { startProcess, type RunningProcess } from "../support/processes.ts";

/**
 * Issue 10, part 2: a gateway restarted the moment its predecessor was SIGKILLed always starts,
 * like under a supervisor without a restart delay. Each round starts the next process before the
 * killed one has even been reaped, on the same DATA_DIR and the same ports, alternating Node and
 * Deno (a site may move from one to the other on the same queue).
 */
const ROUNDS = 6;

describe("gateway restarted right after SIGKILL", { timeout: 240_000 }, () => {
  const started: RunningProcess[] = [];
  let dataDir = "";

  afterAll(async () => {
    for (const proc of started) await proc.kill();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(`starts every time, ${ROUNDS} rounds`, async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cb-restart-"));
    const env = {
      DATA_DIR: dataDir,
      KAFKA_BROKERS: "",
      MQTT_HOST: "127.0.0.1",
      MQTT_PORT: String(await freePort()),
      OCPP_PORT: "0",
      GATEWAY_HTTP_PORT: String(await freePort()),
      GATEWAY_ID: "restart-site",
    };
    let previous: RunningProcess | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const runtime = round % 2 === 0 ? "node" : "deno";
      const killedAt = performance.now();
      // SIGKILL and start the successor at once: no wait for the exit, let alone the reaping.
      previous?.child.kill("SIGKILL");
      const proc = startProcess("gateway/main.ts", env, `gateway round ${round} (${runtime})`, runtime);
      started.push(proc);
      const running = await proc.waitForLog((l) => l.msg === "Gateway is running", 90_000, "running");
      console.log(`round ${round} (${runtime}): running ${Math.round(performance.now() - killedAt)} ms after the predecessor's SIGKILL`);
      expect(running.mqttUrl).toBe(`mqtt://127.0.0.1:${env.MQTT_PORT}`);
      const health = await fetch(`http://127.0.0.1:${env.GATEWAY_HTTP_PORT}/healthz`);
      expect(health.status).toBe(200);
      if (previous) expect(await previous.exited).toBeNull(); // killed by the signal, not exited on its own
      previous = proc;
    }
    expect(await previous!.stop()).toBe(0);
  });
});
