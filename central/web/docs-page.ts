import { renderPage } from "./layout.ts";

/** Swagger UI over /openapi.json; every asset comes from the swagger-ui-dist package, served by Central. */
export function docsPage(): string {
  return renderPage({
    title: "ChargeBridge API reference",
    styles: ["/assets/swagger-ui.css"],
    classicScripts: ["/assets/swagger-ui-bundle.js", "/assets/docs-init.js"],
    scripts: [],
    body: `<main id="swagger-ui" aria-label="API reference"><h1>ChargeBridge API reference</h1><p>Loading /openapi.json…</p></main>`,
  });
}
