import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Every byte the pages load is served from here, by Central itself: operators' networks are often
 * closed, so no page may fetch a script, style or font from another host (issue 13).
 */
export interface Asset {
  body: Uint8Array;
  type: string;
}

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

const here = dirname(fileURLToPath(import.meta.url));
const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/** URL name → file; a fixed list, so no request path ever reaches the file system. */
const FILES: Record<string, string> = {
  "style.css": join(here, "assets", "style.css"),
  "common.js": join(here, "assets", "common.js"),
  "live.js": join(here, "assets", "live.js"),
  "board.js": join(here, "assets", "board.js"),
  "board-actions.js": join(here, "assets", "board-actions.js"),
  "app.js": join(here, "assets", "app.js"),
  "docs-init.js": join(here, "assets", "docs-init.js"),
  "favicon.svg": join(here, "assets", "favicon.svg"),
  "swagger-ui.css": join(swaggerDir, "swagger-ui.css"),
  "swagger-ui-bundle.js": join(swaggerDir, "swagger-ui-bundle.js"),
};

/** Read once at start: a missing file is a packaging fault, reported before the server listens. */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, file] of Object.entries(FILES)) {
    const ext = name.slice(name.lastIndexOf("."));
    assets.set(name, { body: readFileSync(file), type: TYPES[ext] ?? "application/octet-stream" });
  }
  return assets;
}
