import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { axeViolations, seriousOnly } from "../support/axe.ts";
import { foreignRequests, launchChromium, recordRequests } from "../support/chromium.ts";
import { screenshotPath, startEmbeddedSystem, type EmbeddedSystem } from "../support/embedded-system.ts";

describe("driver web app in headless Chromium, against the real npm start composition", () => {
  let sys: EmbeddedSystem;
  let browser: Browser;
  let page: Page;
  let requests: string[];

  beforeAll(async () => {
    [sys, browser] = await Promise.all([startEmbeddedSystem(3), launchChromium()]);
    // A phone-sized window: the app is for drivers standing at a charger.
    page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    requests = recordRequests(page);
  }, 600_000); // on a fresh machine launchChromium() first installs Debian's chromium
  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
  });

  const text = (id: string) => page.locator(`#${id}`).textContent();

  it("registers, reserves, starts, stops and shows the session's energy, all live", async () => {
    await page.goto(`${sys.apiUrl}/app`);
    await page.getByLabel("Your name").fill("Ada Driver");
    await page.getByRole("button", { name: "Register" }).click();
    await page.waitForSelector("#live-state[data-state=live]");
    const cpId = sys.cpIds[1]!;
    await page.getByRole("button", { name: `Reserve ${cpId}` }).click();
    await expect.poll(() => text("res-status")).toBe("reserved");
    expect(await text("res-cp")).toBe(cpId);
    expect(await page.getByRole("button", { name: "Cancel" }).isEnabled()).toBe(true);

    await page.getByRole("button", { name: "Start" }).click();
    // Charging comes through the stream once the simulated charger has really started.
    await expect.poll(() => text("res-status"), { timeout: 10_000 }).toBe("charging");
    // The simulated charger meters every 300 ms; energy above zero proves meter values arrive live.
    await expect.poll(async () => Number.parseFloat((await text("ses-energy")) ?? ""), { timeout: 15_000 }).toBeGreaterThan(0);
    const shot = screenshotPath("app.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);

    await page.getByRole("button", { name: "Stop" }).click();
    await expect.poll(() => text("res-status"), { timeout: 10_000 }).toBe("completed");
    const energy = await text("ses-energy");
    console.log("driver app: session energy shown after stop:", energy);
    expect(Number.parseFloat(energy ?? "")).toBeGreaterThan(0);
    expect(await page.getByRole("button", { name: "Stop" }).isDisabled()).toBe(true);
  });

  it("cancels a reservation that has not started", async () => {
    const cpId = sys.cpIds[2]!;
    await page.getByRole("button", { name: `Reserve ${cpId}` }).click();
    await expect.poll(() => text("res-status")).toBe("reserved");
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => text("res-status")).toBe("cancelled");
  });

  it("uses a driver token from the #token= fragment", async () => {
    const driver = await sys.api("POST", "/v1/drivers", undefined, { name: "Fragment" });
    const other = await browser.newPage();
    await other.goto(`${sys.apiUrl}/app#token=${encodeURIComponent(driver.body.token)}`);
    await other.waitForSelector("#live-state[data-state=live]");
    expect(other.url()).not.toContain("token=");
    await other.locator(`#cp-list li[data-cp="${sys.cpIds[0]}"]`).waitFor();
    await other.close();
  });

  it("has no serious or critical accessibility violations (axe-core)", async () => {
    const violations = await axeViolations(page);
    console.log("axe on /app:", JSON.stringify(violations.map((v) => `${v.impact} ${v.id}`)));
    expect(seriousOnly(violations)).toEqual([]);
  });

  it("loaded nothing from any other host", () => {
    expect(foreignRequests(requests, sys.apiUrl)).toEqual([]);
  });
});
