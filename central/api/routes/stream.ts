import { Hono } from "hono";
import { openStream, parseLastEventId, type StreamDeps } from "../../stream/open-stream.ts";
import type { StreamTickets } from "../../stream/tickets.ts";
import { requireRole, type AuthEnv } from "../auth.ts";
import type { ApiDeps } from "../deps.ts";

export interface StreamApi {
  deps: StreamDeps;
  tickets: StreamTickets;
}

/**
 * `GET /v1/stream` (Server-Sent Events) and `POST /v1/stream-tickets`; docs/protocol.md#live-stream.
 * The stream takes a bearer token or, for EventSource (no headers), `?ticket=` from a ticket POST.
 */
export function streamRoutes(deps: ApiDeps, stream: StreamApi): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const anyone = requireRole(deps.auth, "operator", "driver");

  app.post("/v1/stream-tickets", anyone, async (c) => {
    const { ticket, expiresAt } = await stream.tickets.issue(c.get("principal"));
    return c.json({ ticket, expiresAt, url: `/v1/stream?ticket=${encodeURIComponent(ticket)}` }, 201);
  });

  app.get(
    "/v1/stream",
    async (c, next) => {
      const ticket = c.req.query("ticket");
      if (ticket === undefined) return anyone(c, next);
      const principal = await stream.tickets.redeem(ticket);
      deps.auth.admit?.(principal);
      c.set("principal", principal);
      await next();
    },
    async (c) => {
      // EventSource sends Last-Event-ID on its own reconnects; `?lastEventId=` serves a fresh page load.
      const lastEventId = parseLastEventId(c.req.header("last-event-id") ?? c.req.query("lastEventId"));
      const client = await openStream(stream.deps, c.get("principal"), lastEventId);
      c.req.raw.signal?.addEventListener("abort", () => client.end("client_closed"), { once: true });
      return new Response(client.body, {
        status: 200,
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache, no-transform",
          // nginx buffers proxied responses unless told not to.
          "x-accel-buffering": "no",
        },
      });
    },
  );
  return app;
}
