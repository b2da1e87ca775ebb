import { Hono } from "hono";
import type { Registry } from "prom-client";

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean> | boolean;
}

export interface OpsOptions {
  registry: Registry;
  readiness: ReadinessCheck[];
  /** Extra detail for /healthz, e.g. queue depth. */
  details?: () => Record<string, unknown>;
}

/**
 * /healthz says the process is alive and serving; /readyz says whether it can do its job
 * (dependencies reachable), which is what a load balancer or orchestrator should route on.
 */
export function opsRoutes(options: OpsOptions): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok", ...(options.details?.() ?? {}) }));
  app.get("/readyz", async (c) => {
    const checks: Record<string, boolean> = {};
    for (const r of options.readiness) {
      try {
        checks[r.name] = await r.check();
      } catch {
        checks[r.name] = false;
      }
    }
    const ready = Object.values(checks).every(Boolean);
    return c.json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    const body = await options.registry.metrics();
    return c.body(body, 200, { "content-type": options.registry.contentType });
  });
  return app;
}
