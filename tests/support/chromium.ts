/**
 * Real headless Chromium for the browser tests: Debian's `chromium` package, driven by
 * playwright-core with the system browser (no browser download is possible on this network).
 * A missing browser is installed here, never skipped, so `npm test` passes on a fresh machine.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const LOCK = "/tmp/chargebridge-chromium-install.lock";

// Without the background-networking flags Chromium reaches out to update and sync services,
// which this closed network refuses; QUIC and the GPU are of no use headless here.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Installs Debian's chromium once; a lock directory keeps two test files from running apt at once. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (existsSync(CHROMIUM)) return;
      // A lock left by a killed run is stale after the longest install we allow.
      if (Date.now() - statSync(LOCK, { throwIfNoEntry: false })!.mtimeMs > 15 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Timed out waiting for another test's chromium install (lock ${LOCK})`);
      sleepSync(1000); // another process is installing; nothing to await in-process
    }
  }
  try {
    if (existsSync(CHROMIUM)) return;
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    try {
      execFileSync("apt-get", ["update"], { stdio: "pipe", env, timeout: 10 * 60_000 });
      execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], { stdio: "pipe", env, timeout: 10 * 60_000 });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`Browser tests need ${CHROMIUM} (Debian package 'chromium'); 'apt-get install -y chromium' failed: ${e.stderr?.toString().trim().split("\n").slice(-3).join(" | ") || e.message}`);
    }
    if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed 'chromium' but ${CHROMIUM} is still missing`);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** playwright-core makes a fresh temporary profile (--user-data-dir) for every launch. */
export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
}

/** Every request the page makes, so a test can assert none leaves the host under test. */
export function recordRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (req) => urls.push(req.url()));
  return urls;
}

/** Requests to any origin other than `origin` (data: and blob: URLs never leave the page). */
export function foreignRequests(urls: string[], origin: string): string[] {
  return urls.filter((u) => !u.startsWith(origin + "/") && u !== origin && !u.startsWith("data:") && !u.startsWith("blob:"));
}
