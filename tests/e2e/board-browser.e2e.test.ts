import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { RPCClient } from "ocpp-rpc";
import { axeViolations, seriousOnly } from "../support/axe.ts";
import { foreignRequests, launchChromium, recordRequests } from "../support/chromium.ts";
import { screenshotPath, startEmbeddedSystem, type EmbeddedSystem } from "../support/embedded-system.ts";
import { waitFor } from "../support/wait.ts";

describe("operator board in headless Chromium, against the real npm start composition", () => {
  let sys: EmbeddedSystem;
  let browser: Browser;
  let page: Page;
  let requests: string[];

  beforeAll(async () => {
    [sys, browser] = await Promise.all([startEmbeddedSystem(5), launchChromium()]);
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    requests = recordRequests(page);
  }, 600_000); // on a fresh machine launchChromium() first installs Debian's chromium
  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
  });

  const row = (cpId: string) => page.locator(`#cp-rows tr[data-cp="${cpId}"]`);

  it("redirects / to /board, signs in from the form and lists the five simulated chargers online", async () => {
    await page.goto(`${sys.apiUrl}/`);
    expect(new URL(page.url()).pathname).toBe("/board");
    await page.getByLabel("Operator token").fill(sys.operatorToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    for (const cpId of sys.cpIds) {
      await row(cpId).locator("td", { hasText: "online" }).waitFor({ timeout: 15_000 });
      expect(await row(cpId).getAttribute("data-status")).toBe("available");
    }
    expect(await page.evaluate('sessionStorage.getItem("chargebridge.operatorToken")')).toBe(sys.operatorToken);
  });

  it("shows each simulated MQTT charger's transport and connector as text", async () => {
    for (const cpId of sys.cpIds) {
      await expect.poll(() => row(cpId).locator(".transport").textContent(), { timeout: 10_000 }).toBe("mqtt");
      expect(await row(cpId).locator(".connector").textContent()).toBe("connector 1");
    }
  });

  it("takes the token from the #token= fragment, which never reaches the server", async () => {
    const second = await browser.newPage();
    const seen = recordRequests(second);
    await second.goto(`${sys.apiUrl}/board#token=${encodeURIComponent(sys.operatorToken)}`);
    await second.locator(`#cp-rows tr[data-cp="${sys.cpIds[0]}"]`).waitFor();
    expect(second.url()).not.toContain("token=");
    expect(seen.filter((u) => u.includes(sys.operatorToken))).toEqual([]);
    await second.close();
  });

  it("shows a charge point go available → reserved → charging without a reload, driven by REST and the simulated charger", async () => {
    const cpId = sys.cpIds[0]!;
    let navigations = 0;
    page.on("framenavigated", () => navigations++);
    await page.waitForSelector("#live-state[data-state=live]");
    const driver = await sys.api("POST", "/v1/drivers", undefined, { name: "Board test" });
    const reservation = await sys.api("POST", "/v1/reservations", driver.body.token, { cpId });
    expect(reservation.status).toBe(201);
    await page.waitForSelector(`#cp-rows tr[data-cp="${cpId}"][data-status="reserved"]`, { timeout: 5_000 });
    await page.waitForSelector(`#res-rows tr[data-reservation="${reservation.body.reservationId}"]`);
    expect((await sys.api("POST", `/v1/reservations/${reservation.body.reservationId}/start`, driver.body.token)).status).toBe(202);
    await page.waitForSelector(`#cp-rows tr[data-cp="${cpId}"][data-status="charging"]`, { timeout: 10_000 });
    // Meter values every 300 ms: the session's energy climbs on the board as they arrive.
    await expect.poll(async () => Number(await page.locator("#ses-rows tr[data-session] .energy").first().textContent()), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(navigations).toBe(0);
    const shot = screenshotPath("board.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  });

  it("shows the embedded gateway's health: queue depth, Kafka link (the in-process bus) and its chargers", async () => {
    const gw = page.locator("#gw-rows tr[data-gateway]");
    await gw.first().waitFor({ timeout: 20_000 });
    expect(await gw.locator(".queue-depth").first().textContent()).toMatch(/^\d+$/);
    expect(await gw.locator(".kafka").first().textContent()).toBe("connected");
    expect(await gw.first().textContent()).toContain("mqtt 5");
  });

  it("shows an OCPP box booted on the embedded gateway as ocpp1.6, and its second connector as connector 2 of the box", async () => {
    const created = await sys.api("POST", "/v1/charge-points", sys.operatorToken, { cpId: "board-box" });
    expect(created.status).toBe(201);
    expect((await sys.api("POST", "/v1/charge-points", sys.operatorToken, { cpId: "board-box-2" })).status).toBe(201);
    const secret = created.body.mqtt.password;
    const box = await waitFor(
      async () => {
        const client = new RPCClient({
          endpoint: sys.ocppUrl.replace("/{cpId}", ""),
          identity: "board-box",
          password: secret,
          protocols: ["ocpp1.6"],
          strictMode: true,
          reconnect: false,
        } as ConstructorParameters<typeof RPCClient>[0]);
        await client.connect(); // 401 until the gateway has the credential
        return client;
      },
      { what: "OCPP connection with the provisioned secret" },
    );
    try {
      expect(await box.call("BootNotification", { chargePointVendor: "Acme", chargePointModel: "OCPP-1" })).toMatchObject({ status: "Accepted" });
      // The gateway learns connector 2 from its StatusNotification (docs/ocpp.md, "Connectors").
      await box.call("StatusNotification", { connectorId: 2, errorCode: "NoError", status: "Available" });
      await expect.poll(() => row("board-box").locator(".transport").textContent(), { timeout: 10_000 }).toBe("ocpp1.6");
      expect(await row("board-box").locator(".connector").textContent()).toBe("connector 1");
      await expect.poll(() => row("board-box-2").locator(".connector").textContent(), { timeout: 10_000 }).toBe("connector 2 of board-box");
      expect(await row("board-box-2").locator(".transport").textContent()).toBe("ocpp1.6");
    } finally {
      await box.close();
    }
  });

  it("provisions a charge point and shows its secret once, rotates and revokes it", async () => {
    await page.getByLabel("New charge point id").fill("board-cp-1");
    await page.getByRole("button", { name: "Provision" }).click();
    const password = await page.locator("#secret-password").textContent();
    expect(password?.length).toBeGreaterThan(10);
    await row("board-cp-1").waitFor();
    await page.getByRole("button", { name: "Rotate secret of board-cp-1" }).click();
    // A new secret replaces the shown one (waitForFunction would need eval, which the CSP forbids).
    await expect.poll(() => page.locator("#secret-password").textContent()).not.toBe(password);
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Revoke board-cp-1" }).click();
    await row("board-cp-1").locator("td", { hasText: "Credentials revoked" }).waitFor();
    expect((await sys.api("GET", "/v1/charge-points/board-cp-1", sys.operatorToken)).body.credentialsRevoked).toBe(true);
  });

  it("has no serious or critical accessibility violations (axe-core)", async () => {
    const violations = await axeViolations(page);
    console.log("axe on /board:", JSON.stringify(violations.map((v) => `${v.impact} ${v.id}`)));
    expect(seriousOnly(violations)).toEqual([]);
  });

  it("serves the API reference at /docs from Central alone", async () => {
    const docs = await browser.newPage();
    const seen = recordRequests(docs);
    await docs.goto(`${sys.apiUrl}/docs`);
    await docs.getByText("/v1/reservations/{id}/start").first().waitFor({ timeout: 15_000 });
    expect(foreignRequests(seen, sys.apiUrl)).toEqual([]);
    await docs.close();
  });

  it("loaded nothing from any other host", () => {
    expect(requests.length).toBeGreaterThan(5);
    expect(foreignRequests(requests, sys.apiUrl)).toEqual([]);
  });
});
