/**
 * The shell every page shares. Scripts come from /assets only, never inline, so the pages'
 * Content-Security-Policy (web-routes.ts) can forbid inline script and every other host.
 */
export interface PageOptions {
  title: string;
  /** ES modules; deferred by nature, so they run after the document is parsed. */
  scripts: string[];
  /** Classic scripts, for bundles that set a global (Swagger UI); `defer` keeps them in order before the modules. */
  classicScripts?: string[];
  styles?: string[];
  body: string;
}

export function renderPage(o: PageOptions): string {
  const styles = (o.styles ?? ["/assets/style.css"]).map((href) => `<link rel="stylesheet" href="${href}">`);
  const scripts = [
    ...(o.classicScripts ?? []).map((src) => `<script src="${src}" defer></script>`),
    ...o.scripts.map((src) => `<script type="module" src="${src}"></script>`),
  ];
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${o.title}</title>
  <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
  ${[...styles, ...scripts].join("\n  ")}
</head>
<body>
${o.body}
</body>
</html>
`;
}
