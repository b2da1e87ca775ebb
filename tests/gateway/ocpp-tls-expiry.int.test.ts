import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RPCClient } from "ocpp-rpc";
import { afterEach, describe, expect, it } from "vitest";
import { createOcppHarness, type OcppHarness } from "../support/ocpp-harness.ts";
import { selfSignedCert } from "../support/self-signed-cert.ts";
import { waitFor } from "../support/wait.ts";

describe("OCPP security profile 2, takeover and command expiry", () => {
  let h: OcppHarness | undefined;
  let certDir: string | undefined;
  afterEach(async () => {
    await h?.close();
    if (certDir) await rm(certDir, { recursive: true, force: true });
    h = certDir = undefined;
  });

  it("serves wss:// on OCPPS_PORT with the same authentication", async () => {
    certDir = await mkdtemp(join(tmpdir(), "cb-ocpp-tls-"));
    const made = await selfSignedCert(certDir);
    h = await createOcppHarness({ OCPPS_PORT: "0", TLS_CERT_FILE: made.certFile, TLS_KEY_FILE: made.keyFile });
    const secret = await h.addCharger("tls-1");
    const options = (password: string) =>
      ({
        endpoint: `wss://localhost:${h!.gateway.ocppsPort()}/ocpp`,
        identity: "tls-1",
        password,
        protocols: ["ocpp1.6"],
        strictMode: true,
        reconnect: false,
        wsOpts: { ca: made.cert },
      }) as ConstructorParameters<typeof RPCClient>[0];
    const box = new RPCClient(options(secret));
    await box.connect();
    expect(await box.call("BootNotification", { chargePointVendor: "Acme", chargePointModel: "TLS" })).toMatchObject({ status: "Accepted" });
    await box.close();
    await expect(new RPCClient(options("wrong")).connect()).rejects.toThrow();
  });

  it("a second authenticated connection takes over; presence stays online", async () => {
    h = await createOcppHarness();
    const secret = await h.addCharger("to-1");
    const first = await h.connect("to-1", secret);
    const closed = new Promise<void>((resolve) => first.once("close", () => resolve()));
    const second = await h.connect("to-1", secret);
    await closed;
    expect(await second.call("Heartbeat", {})).toHaveProperty("currentTime");
    const presence = h.events.map((r) => JSON.parse(r.value)).filter((e) => e.kind === "presence" && e.cpId === "to-1");
    expect(presence.map((e) => e.online)).toEqual([true]);
  });

  it("a command for a box that never comes back is reported expired", async () => {
    h = await createOcppHarness({ COMMAND_TTL_SECONDS: "1" });
    const secret = await h.addCharger("ex-1");
    await (await h.connect("ex-1", secret)).close();
    const id = await h.sendCommand("ex-1", "reserve", { reservationId: "res-x", expiresAt: new Date(Date.now() + 600_000).toISOString() });
    const result = await waitFor(() => h!.up("ex-1", "command_result").find((e) => e.payload.commandId === id), { what: "expired result" });
    expect(result.payload).toMatchObject({ accepted: false, reason: "expired" });
  });
});
