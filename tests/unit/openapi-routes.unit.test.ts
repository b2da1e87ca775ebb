import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";

/** The document cannot drift from the router: both come from the same route specs (define-route.ts). */
describe("GET /openapi.json matches what Central serves", () => {
  let h: CentralHarness;
  let doc: { paths: Record<string, Record<string, any>> };
  beforeAll(async () => {
    h = await createCentralHarness({});
    doc = (await (await h.central.app.request("/openapi.json")).json()) as typeof doc;
  });
  afterAll(async () => h?.close());

  const served = () =>
    h.central.app.routes
      .filter((r) => r.method !== "ALL" && (r.path.startsWith("/v1/") || ["/healthz", "/readyz", "/metrics"].includes(r.path)))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replaceAll(/:(\w+)/g, "{$1}")}`);
  const documented = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));

  it("documents every route the router serves, and no route it does not", () => {
    expect(new Set(documented())).toEqual(new Set(served()));
    expect(served().length).toBeGreaterThanOrEqual(18);
  });

  it("documents a body's schema from the zod schema that validates it", async () => {
    const schema = doc.paths["/v1/charge-points"]!.post.requestBody.content["application/json"].schema;
    expect(schema.required).toEqual(["cpId"]);
    // The same pattern the validator enforces: a cpId the document forbids is refused with the field named.
    const pattern = new RegExp(schema.properties.cpId.pattern);
    expect(pattern.test("bad id!")).toBe(false);
    const refused = await h.request("POST", "/v1/charge-points", OPERATOR, { cpId: "bad id!" });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: "validation_failed", field: "cpId" });
    const path = doc.paths["/v1/reservations/{id}/start"]!.post;
    expect(path.parameters[0]).toMatchObject({ name: "id", in: "path", required: true });
    expect(Object.keys(path.responses).sort()).toEqual(["202", "401", "404", "409", "429"]);
  });

  it("documents a charge point's transport and connector (issue 13)", () => {
    const ok = doc.paths["/v1/charge-points/{cpId}"]!.get.responses["200"].content["application/json"].schema;
    const schema = ok.$ref ? (doc as any).components.schemas[ok.$ref.split("/").pop()] : ok;
    expect(schema.required).toEqual(expect.arrayContaining(["transport", "connector"]));
    expect(JSON.stringify(schema.properties.transport)).toContain("ocpp1.6");
    expect(JSON.stringify(schema.properties.connector)).toContain("connectorId");
  });

  it("keeps the v1 error shape for a body without a JSON content type (not zod-openapi's 415)", async () => {
    const res = await h.central.app.request("/v1/drivers", { method: "POST", body: JSON.stringify({ name: "No header" }) });
    expect(res.status).toBe(201);
    const bad = await h.central.app.request("/v1/drivers", { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: unknown }).error).toMatchObject({ code: "validation_failed", field: "body" });
  });
});
