import { sign } from "hono/jwt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_TOPICS } from "../../protocol/index.ts";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";
import { waitFor } from "../support/wait.ts";

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function raw(h: CentralHarness, method: string, path: string, token?: string, body?: unknown) {
  const res = await h.central.app.request(path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe("driver tokens: signed, expiring, and nothing else gets in", () => {
  let h: CentralHarness;
  beforeAll(async () => {
    h = await createCentralHarness({ DRIVER_TOKEN_TTL_SECONDS: "60" });
  });
  afterAll(async () => h?.close());
  beforeEach(async () => h.reset());

  const expectUnauthorized = async (token: string) => {
    const res = await h.request("GET", "/v1/sessions", token);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("unauthorized");
  };

  it("accepts its own token, and refuses it once expired", async () => {
    const d = await h.driver();
    expect((await h.request("GET", "/v1/sessions", d.token)).status).toBe(200);
    h.clock.advance(61_000);
    await expectUnauthorized(d.token);
  });

  it("refuses a token signed with another key", async () => {
    const now = Math.floor(h.clock.now() / 1000);
    await expectUnauthorized(await sign({ sub: "drv_x", role: "driver", iat: now, exp: now + 60 }, "not-the-server-secret-0123456789abcdef", "HS256"));
  });

  it("refuses a tampered token (payload changed, signature kept)", async () => {
    const a = await h.driver("A");
    const b = await h.driver("B");
    const [head, , signature] = a.token.split(".");
    const now = Math.floor(h.clock.now() / 1000);
    await expectUnauthorized(`${head}.${b64url({ sub: b.driverId, role: "driver", iat: now, exp: now + 60 })}.${signature}`);
    // Lifting the expiry is tampering too.
    const payload = JSON.parse(Buffer.from(a.token.split(".")[1]!, "base64url").toString());
    await expectUnauthorized(`${head}.${b64url({ ...payload, exp: payload.exp + 3600 })}.${signature}`);
  });

  it("refuses alg=none, other algorithms, garbage and a missing token", async () => {
    const now = Math.floor(h.clock.now() / 1000);
    const claims = { sub: "drv_x", role: "driver", iat: now, exp: now + 60 };
    await expectUnauthorized(`${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims)}.`);
    await expectUnauthorized(`${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims)}`);
    await expectUnauthorized(await sign(claims, "not-the-server-secret-0123456789abcdef", "HS512"));
    await expectUnauthorized("not.a.jwt");
    await expectUnauthorized(OPERATOR.slice(0, -1));
    expect((await h.request("GET", "/v1/sessions")).status).toBe(401);
  });

  it("revokes every earlier token when the driver asks for a new one", async () => {
    const d = await h.driver();
    const first = await h.request("POST", "/v1/drivers/me/token", d.token);
    expect(first.status).toBe(200);
    expect(first.body.driverId).toBe(d.driverId);
    await expectUnauthorized(d.token);
    expect((await h.request("GET", "/v1/drivers/me", first.body.token)).body.driverId).toBe(d.driverId);
    const second = await h.request("POST", "/v1/drivers/me/token", first.body.token);
    await expectUnauthorized(first.body.token);
    expect((await h.request("GET", "/v1/sessions", second.body.token)).status).toBe(200);
    // the driver's reservations stay theirs under the new token
    await h.provision("cp-r1");
    const r = await h.request("POST", "/v1/reservations", second.body.token, { cpId: "cp-r1" });
    const third = await h.request("POST", "/v1/drivers/me/token", second.body.token);
    expect((await h.request("GET", `/v1/reservations/${r.body.reservationId}`, third.body.token)).status).toBe(200);
  });

  it("lets the operator reissue a driver's token (a lost phone), revoking the old one, and only the operator", async () => {
    const d = await h.driver();
    const other = await h.driver("Other");
    expect((await h.request("POST", `/v1/drivers/${d.driverId}/token`, other.token)).status).toBe(403);
    expect((await h.request("GET", "/v1/sessions", d.token)).status).toBe(200); // a refused attempt revokes nothing
    const issued = await h.request("POST", `/v1/drivers/${d.driverId}/token`, OPERATOR);
    expect(issued.status).toBe(200);
    await expectUnauthorized(d.token);
    expect((await h.request("GET", "/v1/drivers/me", issued.body.token)).body.driverId).toBe(d.driverId);
    expect((await h.request("GET", "/v1/sessions", other.token)).status).toBe(200); // other drivers are untouched
    const missing = await h.request("POST", "/v1/drivers/drv_nobody/token", OPERATOR);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect((await h.request("POST", "/v1/drivers/bad%20id/token", OPERATOR)).status).toBe(404);
  });

  it("honours a token from before token generations existed until the driver is reissued one", async () => {
    const d = await h.driver();
    const now = Math.floor(h.clock.now() / 1000);
    // signed as Central signed before: no `gen` claim, with the key it keeps in its settings
    const rows = await h.central.ctx.db.query<{ value: string }>("SELECT value FROM settings WHERE key = 'token_secret'");
    const legacy = await sign({ sub: d.driverId, role: "driver", iat: now, exp: now + 60 }, rows[0]!.value, "HS256");
    expect((await h.request("GET", "/v1/sessions", legacy)).status).toBe(200);
    await h.request("POST", `/v1/drivers/${d.driverId}/token`, OPERATOR);
    await expectUnauthorized(legacy);
  });

  it("keeps operator endpoints for the operator token (403 for a driver) and driver endpoints for drivers", async () => {
    await h.provision("cp-1");
    const d = await h.driver();
    const provision = await h.request("POST", "/v1/charge-points", d.token, { cpId: "cp-2" });
    expect(provision.status).toBe(403);
    expect(provision.body.error.code).toBe("forbidden");
    expect((await h.request("POST", "/v1/charge-points/cp-1/secret", d.token)).status).toBe(403);
    expect((await h.request("POST", "/v1/reservations", OPERATOR, { cpId: "cp-1" })).status).toBe(403);
    expect((await h.request("GET", "/v1/charge-points/cp-2", OPERATOR)).status).toBe(404); // nothing was created
  });
});

describe("identifiers and free text", () => {
  let h: CentralHarness;
  beforeAll(async () => {
    h = await createCentralHarness();
  });
  afterAll(async () => h?.close());

  it("stores a name full of SQL meta-characters verbatim and returns it", async () => {
    const name = "'; DROP TABLE drivers; --";
    const d = await h.driver(name);
    const me = await h.request("GET", "/v1/drivers/me", d.token);
    expect(me.body).toMatchObject({ driverId: d.driverId, name });
    expect((await h.driver("Bobby")).token).toBeTruthy(); // the table is still there
  });

  it("refuses text that cannot be stored verbatim, naming the field", async () => {
    for (const name of ["a\u0000b", "\ud800", "x\udc00y", " ", "x".repeat(201)]) {
      const res = await h.request("POST", "/v1/drivers", undefined, { name });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: "validation_failed", field: "name" });
    }
  });

  it("refuses ids outside their pattern before they reach a query or a topic", async () => {
    const d = await h.driver();
    for (const cpId of ["x'; DROP TABLE charge_points; --", "a/b", "a+b", "a#b", "", "é", "x".repeat(65)]) {
      const created = await h.request("POST", "/v1/charge-points", OPERATOR, { cpId });
      expect(created.status).toBe(400);
      expect(created.body.error.field).toBe("cpId");
      const reserved = await h.request("POST", "/v1/reservations", d.token, { cpId });
      expect(reserved.status).toBe(400);
      expect(reserved.body.error.field).toBe("cpId");
    }
    for (const id of ["x'%3B%20DROP%20TABLE%20charge_points%3B%20--", "a%2Fb", "a+b", "a%23b", "%00"]) {
      const res = await h.request("GET", `/v1/charge-points/${id}`, OPERATOR);
      expect(res.status).toBe(404);
      expect(res.body.error.field).toBe("cpId");
      const rotated = await h.request("POST", `/v1/charge-points/${id}/secret`, OPERATOR);
      expect(rotated.status).toBe(404);
      expect((await h.request("GET", `/v1/reservations/${id}`, d.token)).body.error.field).toBe("id");
    }
  });

  it("answers another driver's reservation exactly like a missing one (404), and leaves it alone", async () => {
    await h.provision("cp-own");
    const a = await h.driver("A");
    const b = await h.driver("B");
    const { body: r } = await h.request("POST", "/v1/reservations", a.token, { cpId: "cp-own" });
    for (const [method, path] of [
      ["GET", `/v1/reservations/${r.reservationId}`],
      ["POST", `/v1/reservations/${r.reservationId}/start`],
      ["POST", `/v1/reservations/${r.reservationId}/stop`],
      ["DELETE", `/v1/reservations/${r.reservationId}`],
    ] as const) {
      const theirs = await h.request(method, path, b.token);
      const missing = await h.request(method, path.replace(r.reservationId, "res_does_not_exist"), b.token);
      expect(theirs.status).toBe(404);
      expect(theirs.body.error.code).toBe(missing.body.error.code);
    }
    expect((await h.request("GET", `/v1/reservations/${r.reservationId}`, a.token)).body.status).toBe("reserved");
    expect((await h.commands("cp-own")).map((c) => c.type)).toEqual(["reserve"]);
  });
});

describe("REST rate limits", () => {
  let h: CentralHarness;
  beforeAll(async () => {
    h = await createCentralHarness({ DRIVER_RATE_PER_MINUTE: "3" });
  });
  afterAll(async () => h?.close());

  it("limits each driver separately with 429, the JSON error body and Retry-After", async () => {
    const a = await h.driver("A");
    const b = await h.driver("B");
    for (let i = 0; i < 3; i++) expect((await raw(h, "GET", "/v1/sessions", a.token)).status).toBe(200);
    const limited = await raw(h, "GET", "/v1/charge-points", a.token);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: "rate_limited", retryAfterSeconds: 20 });
    expect(limited.headers.get("retry-after")).toBe("20");
    expect((await raw(h, "GET", "/v1/sessions", b.token)).status).toBe(200);
    h.clock.advance(20_000);
    expect((await raw(h, "GET", "/v1/sessions", a.token)).status).toBe(200);
    expect((await raw(h, "GET", "/v1/sessions", a.token)).status).toBe(429);
  });

  it("limits registrations per client address, and not the operator at all", async () => {
    // Two registrations above; in-process requests have no address, so they share one bucket.
    h.clock.advance(60_000);
    for (let i = 0; i < 3; i++) expect((await raw(h, "POST", "/v1/drivers", undefined, { name: `n${i}` })).status).toBe(201);
    const limited = await raw(h, "POST", "/v1/drivers", undefined, { name: "one too many" });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) expect((await raw(h, "GET", "/v1/charge-points", OPERATOR)).status).toBe(200);
  });
});

describe("charger credentials: revoked by the operator", () => {
  let h: CentralHarness;
  beforeAll(async () => {
    h = await createCentralHarness();
  });
  afterAll(async () => h?.close());
  beforeEach(async () => h.reset());

  it("revokes a charger: gateways are told (hash null), it is never reserved, and a new secret restores it", async () => {
    const records: { cpId: string; hash: string | null }[] = [];
    const sub = await h.bus.subscribe(DEFAULT_TOPICS.credentials, { groupId: `revoke-${Date.now()}`, fromBeginning: false }, async (r) => {
      records.push(JSON.parse(r.value));
    });
    await h.provision("cp-rv");
    const d = await h.driver();
    expect((await h.request("DELETE", "/v1/charge-points/cp-rv/secret", d.token)).status).toBe(403);
    const revoked = await h.request("DELETE", "/v1/charge-points/cp-rv/secret", OPERATOR);
    expect(revoked).toMatchObject({ status: 200, body: { cpId: "cp-rv", revoked: true } });
    await waitFor(() => records.some((r) => r.cpId === "cp-rv" && r.hash === null), { what: "the revocation on the credentials topic" });
    expect((await h.request("GET", "/v1/charge-points/cp-rv", OPERATOR)).body.credentialsRevoked).toBe(true);
    // still online in Central's view until its gateway reports it gone: never reserved anyway
    const refused = await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-rv" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("credentials revoked");
    expect((await h.request("POST", "/v1/reservations", d.token, {})).status).toBe(409); // nor as "any charge point"
    expect((await h.request("DELETE", "/v1/charge-points/cp-nobody/secret", OPERATOR)).status).toBe(404);

    const restored = await h.request("POST", "/v1/charge-points/cp-rv/secret", OPERATOR);
    expect(restored.status).toBe(200);
    await waitFor(() => records.some((r) => r.cpId === "cp-rv" && typeof r.hash === "string" && r.hash.length > 0 && records.indexOf(r) > records.findIndex((x) => x.hash === null)), {
      what: "the new hash after the revocation",
    });
    expect((await h.request("GET", "/v1/charge-points/cp-rv", OPERATOR)).body.credentialsRevoked).toBe(false);
    expect((await h.request("POST", "/v1/reservations", d.token, { cpId: "cp-rv" })).status).toBe(201);
    await sub.close();
  });
});
