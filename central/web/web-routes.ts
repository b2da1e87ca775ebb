import { Hono } from "hono";
import { appPage } from "./app-page.ts";
import { boardPage } from "./board-page.ts";
import { docsPage } from "./docs-page.ts";
import { loadAssets } from "./static-assets.ts";

/**
 * No other host, no inline script: a page that is tricked into rendering hostile text still
 * cannot run it or send data elsewhere. Swagger UI sets inline styles and data: icons.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** GET /, /board, /app, /docs and their assets under /assets/ (issue 13: pages served by Central). */
export function webRoutes(): Hono {
  const app = new Hono();
  const assets = loadAssets();
  const pages = { "/board": boardPage(), "/app": appPage(), "/docs": docsPage() };

  app.get("/", (c) => c.redirect("/board", 302));
  for (const [path, html] of Object.entries(pages)) app.get(path, (c) => c.body(html, 200, PAGE_HEADERS));
  app.get("/assets/:name", (c) => {
    const asset = assets.get(c.req.param("name"));
    if (!asset) return c.json({ error: { code: "not_found", message: "No such asset", field: "name" } }, 404);
    // Not content-hashed names, so a short cache: a new release reaches browsers within minutes.
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { "content-type": asset.type, "cache-control": "public, max-age=300", "x-content-type-options": "nosniff" });
  });
  return app;
}
