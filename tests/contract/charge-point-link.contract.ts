import { expect, it } from "vitest";
import type { Db } from "../../central/db/db.ts";
import { OPERATOR, type CentralHarness } from "../support/central-harness.ts";

const BOOT = { vendor: "V", model: "M", firmware: "1.0" };
const MQTT = { transport: "mqtt" };
const ocpp = (chargeBox: string, connectorId: number) => ({ transport: "ocpp1.6", chargeBox, connectorId });

/**
 * Issue 13, "The board": a charge point's transport and connector, from the gateway's envelope
 * (protocol/bus-records.ts), stored by the boot and status intents and shown in the REST view.
 * Run on PGlite and PostgreSQL through tests/contract/store.contract.ts.
 */
export function chargePointLinkCases(harness: () => CentralHarness, database: () => Db): void {
  const view = async (cpId: string) => (await harness().request("GET", `/v1/charge-points/${cpId}`, OPERATOR)).body;

  it("shows an MQTT charger as transport mqtt, connector 1 of itself, from the envelope or (older gateway) from nothing", async () => {
    const h = harness();
    await h.provision("mq-1");
    await h.provision("mq-2");
    expect(await view("mq-1")).toMatchObject({ transport: null, connector: null });
    await h.emit("mq-1", "boot", BOOT, { envelope: MQTT });
    await h.emit("mq-2", "boot", BOOT); // no envelope fields, no payload transport: a record from an older gateway
    for (const cpId of ["mq-1", "mq-2"]) expect(await view(cpId)).toMatchObject({ transport: "mqtt", connector: { chargeBox: cpId, connectorId: 1 } });
  });

  it("never reads a connector from the id: an MQTT charger named foo-2 is connector 1 of foo-2, not 2 of foo", async () => {
    const h = harness();
    await h.provision("foo");
    await h.provision("foo-2");
    await h.emit("foo-2", "boot", BOOT, { envelope: MQTT });
    expect(await view("foo-2")).toMatchObject({ transport: "mqtt", connector: { chargeBox: "foo-2", connectorId: 1 } });
  });

  it("learns an OCPP connector charge point from its first status, before it ever boots, and keeps it across boots", async () => {
    const h = harness();
    await h.provision("box-x");
    await h.provision("box-x-2");
    await h.emit("box-x", "boot", { ...BOOT, transport: "ocpp1.6" }, { envelope: ocpp("box-x", 1) });
    await h.emit("box-x-2", "status", { status: "available" }, { envelope: ocpp("box-x", 2) });
    expect(await view("box-x")).toMatchObject({ transport: "ocpp1.6", connector: { chargeBox: "box-x", connectorId: 1 } });
    expect(await view("box-x-2")).toMatchObject({ transport: "ocpp1.6", connector: { chargeBox: "box-x", connectorId: 2 } });
    // A status without envelope facts (older gateway) changes nothing it knew.
    await h.emit("box-x-2", "status", { status: "available" });
    expect((await view("box-x-2")).connector).toEqual({ chargeBox: "box-x", connectorId: 2 });
  });

  it("takes an older OCPP gateway's payload transport, and leaves its unknown connector unknown", async () => {
    const h = harness();
    await h.provision("old-box");
    await h.emit("old-box", "boot", { ...BOOT, transport: "ocpp1.6" });
    expect(await view("old-box")).toMatchObject({ transport: "ocpp1.6", connector: null });
  });

  it("writes no stream change when a status repeats the facts it knows", async () => {
    const h = harness();
    await h.provision("mq-s");
    await h.emit("mq-s", "status", { status: "available" }, { envelope: MQTT });
    const count = async () => Number((await database().query<{ n: string }>("SELECT count(*) AS n FROM stream_changes WHERE entity_id = 'mq-s'"))[0]!.n);
    const before = await count();
    await h.emit("mq-s", "status", { status: "available" }, { envelope: MQTT });
    expect(await count()).toBe(before);
  });

  it("refuses an envelope with a bad transport or connector as an invalid record, and changes nothing", async () => {
    const h = harness();
    await h.provision("mq-bad");
    await expect(h.emit("mq-bad", "boot", BOOT, { envelope: { transport: "zigbee" } })).rejects.toThrow(/event refused.*transport/);
    await expect(h.emit("mq-bad", "boot", BOOT, { envelope: { ...MQTT, connectorId: 0 } })).rejects.toThrow(/event refused.*connectorId/);
    await expect(h.emit("mq-bad", "boot", BOOT, { envelope: { ...MQTT, chargeBox: "no spaces" } })).rejects.toThrow(/event refused.*chargeBox/);
    expect(await view("mq-bad")).toMatchObject({ transport: null, connector: null, vendor: null });
  });
}
