import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGatewayHarness, type GatewayHarness } from "../support/gateway-harness.ts";
import { waitFor } from "../support/wait.ts";

async function pending(h: GatewayHarness): Promise<number> {
  const body = (await (await fetch(`http://127.0.0.1:${h.gateway.httpPort()}/healthz`)).json()) as { pendingCommands: number };
  return body.pendingCommands;
}

describe("gateway command delivery", () => {
  let h: GatewayHarness;
  beforeEach(async () => {
    h = await createGatewayHarness({ COMMAND_TTL_SECONDS: "2" });
  });
  afterEach(async () => h?.close());

  it("keeps a command for an offline charger across a gateway restart and delivers it on reconnect", async () => {
    const secret = await h.addCharger("cp-r");
    const first = await h.connect("cp-r", secret, { clean: false });
    await first.subscribeAsync("chargebridge/v1/cp-r/down/#", { qos: 1 });
    await first.endAsync();

    const id = await h.sendCommand("cp-r", "start", { reservationId: "res-9" });
    await waitFor(async () => (await pending(h)) === 1, {
      what: "command stored",
    });
    await h.restart();

    const got: { id: string }[] = [];
    const again = await h.connect("cp-r", secret, { clean: false }, (_t, body) => got.push(body));
    // The restarted broker has no session for it any more, so the charger subscribes again.
    await again.subscribeAsync("chargebridge/v1/cp-r/down/#", { qos: 1 });
    await waitFor(() => got.some((m) => m.id === id), { what: "command after restart" });
    // PUBACK removed it from the store: nothing is pending any more
    await waitFor(async () => (await pending(h)) === 0, {
      what: "command acknowledged",
    });
  });

  it("reports a command its charger never took as expired", async () => {
    const secret = await h.addCharger("cp-x");
    const c = await h.connect("cp-x", secret, { clean: false });
    await c.endAsync();
    const id = await h.sendCommand("cp-x", "stop", { reservationId: "res-1" });
    const result = await waitFor(
      () =>
        h.events
          .map((r) => JSON.parse(r.value))
          .find((e) => e.kind === "up" && e.type === "command_result" && e.payload.commandId === id),
      { timeoutMs: 10_000, what: "expired command_result" },
    );
    expect(result.payload).toMatchObject({ accepted: false, reason: "expired" });
    expect(result.cpId).toBe("cp-x");
  });

  it("ignores commands for chargers whose session another gateway holds", async () => {
    const secret = await h.addCharger("cp-here");
    await (await h.connect("cp-here", secret, { clean: false })).endAsync();
    await h.sendCommand("cp-elsewhere", "stop", { reservationId: "res-1" });
    await h.sendCommand("cp-here", "stop", { reservationId: "res-2" });
    // commands are consumed in order, so once the second is stored the first was seen and skipped
    await waitFor(async () => (await pending(h)) === 1, {
      what: "only the local charger's command stored",
    });
  });
});
