import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";

/** Per endpoint; each run is one in-process request against PGlite. */
const RUNS = 120;

const nasty = fc.constantFrom("\u0000", "\ud800", "'; DROP TABLE drivers; --", "a/b", "a+b", "#", "../..", "%", "%00", "é", " ", "");
const text = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: "binary", maxLength: 80 }), nasty);
const anyJson = fc.jsonValue({ maxDepth: 4 });
const field = fc.oneof(text, anyJson, fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/));

/** Bodies: random JSON, objects with the endpoint's own keys set to anything, and non-JSON text. */
const body = fc.oneof(
  anyJson.map((v) => JSON.stringify(v) ?? ""),
  fc.record({ cpId: field, name: field }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.dictionary(fc.oneof(text, fc.constantFrom("__proto__", "constructor", "cpId", "name")), anyJson, { maxKeys: 5 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: "binary", maxLength: 200 }),
);
const pathParam = fc.oneof(text.filter((s) => s.length > 0), fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/)).map((s) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return "x"; // an unpaired surrogate cannot even be put in a URL
  }
});

describe("REST bodies and paths under fuzzing: never a 5xx, always the error shape", () => {
  let h: CentralHarness;
  let driver: string;
  let gateway: string;

  beforeAll(async () => {
    // Rate limits off: every request should reach validation.
    h = await createCentralHarness({ DRIVER_RATE_PER_MINUTE: "0" });
    await h.provision("cp-fuzz");
    driver = (await h.driver()).token;
    gateway = (await h.request("POST", "/v1/gateways/gw-fuzz/token", OPERATOR)).body.token;
  });
  afterAll(async () => h?.close());

  async function send(method: string, path: string, token: string | undefined, payload: string): Promise<boolean> {
    const res = await h.central.app.request(path, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(method === "GET" ? {} : { body: payload }),
    });
    const text = await res.text();
    if (res.status >= 500) throw new Error(`${method} ${path} answered ${res.status}: ${text}\nbody: ${JSON.stringify(payload)}`);
    if (res.status < 400) return res.status >= 200;
    const json = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    const shaped = typeof json.error?.code === "string" && typeof json.error.message === "string";
    const named = res.status !== 400 || typeof json.error?.field === "string";
    if (!shaped || !named) throw new Error(`${method} ${path} ${res.status} without the error shape: ${text}`);
    return true;
  }

  const endpoints: [string, string, () => string | undefined][] = [
    ["POST", "/v1/charge-points", () => OPERATOR],
    ["POST", "/v1/drivers", () => undefined],
    ["POST", "/v1/reservations", () => driver],
    ["POST", "/v1/charge-points/cp-fuzz/secret", () => OPERATOR],
    ["POST", "/v1/gateways/gw-fuzz/health", () => gateway],
  ];

  for (const [method, path, token] of endpoints) {
    it(`${method} ${path}`, async () => {
      await fc.assert(
        fc.asyncProperty(body, (payload) => send(method, path, token(), payload)),
        { numRuns: RUNS },
      );
    });
  }

  it("path parameters of every route", async () => {
    const routes: [string, (p: string) => string, () => string | undefined][] = [
      ["GET", (p) => `/v1/charge-points/${p}`, () => driver],
      ["POST", (p) => `/v1/charge-points/${p}/secret`, () => OPERATOR],
      ["GET", (p) => `/v1/reservations/${p}`, () => driver],
      ["POST", (p) => `/v1/reservations/${p}/start`, () => driver],
      ["POST", (p) => `/v1/reservations/${p}/stop`, () => driver],
      ["DELETE", (p) => `/v1/reservations/${p}`, () => driver],
      ["POST", (p) => `/v1/gateways/${p}/token`, () => OPERATOR],
      ["POST", (p) => `/v1/gateways/${p}/health`, () => gateway],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), pathParam, body, async ([method, path, token], param, payload) => send(method, path(param), token(), payload)),
      { numRuns: RUNS * 2 },
    );
  });

  it("still serves good requests afterwards", async () => {
    expect((await h.request("GET", "/v1/charge-points/cp-fuzz", driver)).status).toBe(200);
    expect((await h.request("POST", "/v1/drivers", undefined, { name: "after the storm" })).status).toBe(201);
  });
});
