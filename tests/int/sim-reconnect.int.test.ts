import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimCharger } from "../../firmware-sim/sim-charger.ts";

/**
 * A broker that turns connections away as a busy or rate-limited gateway does (CONNACK 3,
 * server unavailable) and refuses wrong secrets (CONNACK 4). Firmware must keep retrying the
 * first and give up on the second.
 */
describe("firmware-sim reconnecting after a refused CONNACK", () => {
  let server: Server;
  let broker: Aedes;
  let url: string;
  const attempts = new Map<string, number>();
  let busyFor = 0;

  beforeAll(async () => {
    broker = await Aedes.createBroker({
      authenticate: (client, _username, password, done) => {
        const n = (attempts.get(client.id) ?? 0) + 1;
        attempts.set(client.id, n);
        if (password?.toString() !== "right") return done(Object.assign(new Error("bad"), { returnCode: 4 }), false);
        if (n <= busyFor) return done(Object.assign(new Error("busy"), { returnCode: 3 }), false);
        done(null, true);
      },
    });
    server = createServer(broker.handle as (socket: import("node:net").Socket) => void);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("keeps retrying with backoff while the broker answers 'server unavailable', then connects", async () => {
    busyFor = 3;
    const c = new SimCharger({ url, cpId: "busy-cp", password: "right", reconnectMs: 50, reconnectMaxMs: 200 });
    await c.start();
    expect(attempts.get("busy-cp")).toBe(4);
    expect(c.connected).toBe(true);
    await c.stop();
  });

  it("gives up when the broker refuses the credentials before it ever connected and the grace is over", async () => {
    busyFor = 0;
    const c = new SimCharger({ url, cpId: "wrong-cp", password: "wrong", reconnectMs: 50, authGraceMs: 0 });
    await expect(c.start()).rejects.toThrow(/wrong-cp: the broker refused the credentials/);
    expect(attempts.get("wrong-cp")).toBe(1);
  });

  it("keeps retrying refused credentials during the grace period (a new charger's hash is still on its way)", async () => {
    busyFor = 0;
    const c = new SimCharger({ url, cpId: "wrong-cp-2", password: "wrong", reconnectMs: 50, reconnectMaxMs: 50, authGraceMs: 400 });
    await expect(c.start()).rejects.toThrow(/wrong-cp-2: the broker refused the credentials/);
    expect(attempts.get("wrong-cp-2")).toBeGreaterThan(1);
  });
});
