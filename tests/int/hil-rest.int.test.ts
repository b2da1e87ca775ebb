import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiUnreachableError, restClient } from "../../firmware-sim/hil/rest.ts";

/** The harness's REST client against a real HTTP server that rate-limits the first request. */
describe("HIL REST client", () => {
  let server: Server;
  let url: string;
  let hits = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits += 1;
      if (req.url === "/limited" && hits === 1) {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "1" });
        return res.end(JSON.stringify({ error: { code: "rate_limited", message: "slow down" } }));
      }
      if (req.url === "/broken") {
        res.writeHead(500, { "content-type": "application/json" });
        return res.end("{}");
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("waits out a 429's Retry-After and retries, counting it", async () => {
    const rest = restClient(url);
    const started = Date.now();
    const res = await rest.call("GET", "/limited");
    expect(res).toEqual({ status: 200, body: { ok: true } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(rest.stats()).toEqual({ requests: 2, errors: 0, rateLimited: 1 });
  });

  it("counts 5xx answers as errors and returns them; an unreachable API is an ApiUnreachableError", async () => {
    const rest = restClient(url);
    expect((await rest.call("GET", "/broken")).status).toBe(500);
    expect(rest.stats().errors).toBe(1);
    await expect(restClient("http://127.0.0.1:9").call("GET", "/x")).rejects.toThrow(ApiUnreachableError);
  });
});
