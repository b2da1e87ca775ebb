import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCentralHarness, type CentralHarness } from "../support/central-harness.ts";

/** The pages and their assets, served by Central alone (issue 13): no other host, no inline script. */
describe("pages served by Central", () => {
  let h: CentralHarness;
  beforeAll(async () => {
    h = await createCentralHarness({});
  });
  afterAll(async () => h?.close());
  const get = (path: string) => h.central.app.request(path);

  it("redirects / to /board", async () => {
    const res = await get("/");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/board");
  });

  it.each(["/board", "/app", "/docs"])("serves %s as HTML that references only its own host, under a CSP that forbids other hosts and inline script", async (path) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script has a src: none inline
    for (const [, ref] of html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) {
      const asset = await get(ref!);
      expect(asset.status, ref).toBe(200);
    }
  });

  it("serves assets with their types and refuses names off its list", async () => {
    expect((await get("/assets/board.js")).headers.get("content-type")).toContain("text/javascript");
    expect((await get("/assets/swagger-ui.css")).headers.get("content-type")).toContain("text/css");
    for (const name of ["../package.json", "..%2Fpackage.json", "nope.js"]) {
      const res = await get(`/assets/${name}`);
      expect(res.status).toBe(404);
    }
  });
});
