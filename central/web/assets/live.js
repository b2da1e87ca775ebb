// The live stream for both pages: GET /v1/stream through EventSource, which cannot send an
// Authorization header, so each connection first trades the token for a short-lived ticket
// (POST /v1/stream-tickets) and passes only that in the URL: the long-lived token never reaches
// an access log.
import { api } from "./common.js";

const KINDS = ["charge_point", "reservation", "session", "gateway", "snapshot"];

/**
 * Opens the stream and keeps it open. handlers: { charge_point(view), reservation(view),
 * session(view), gateway(view), snapshot(data), resync() }; onState("live" | "connecting" |
 * "refused" | "offline", detail). resync() runs after every (re)connect, for the page to re-read
 * what a gap may have hidden.
 */
export function openLive(token, handlers, onState) {
  let source;
  let stopped = false;
  let retryMs = 1000;
  let lastEventId = "";

  async function connect() {
    if (stopped) return;
    onState("connecting");
    let ticket;
    try {
      const answer = await api("POST", "/v1/stream-tickets", token);
      ticket = answer.ticket;
    } catch (err) {
      if (err.status === 401 || err.status === 403) return onState("refused", err.message);
      onState("offline", err.message);
      return later();
    }
    const query = new URLSearchParams({ ticket });
    // EventSource sends Last-Event-ID only on its own retries; a fresh one (new ticket) says it here.
    if (lastEventId) query.set("lastEventId", lastEventId);
    source = new EventSource(`/v1/stream?${query}`);
    source.onopen = () => {
      retryMs = 1000;
      onState("live");
      handlers.resync?.();
    };
    for (const kind of KINDS) {
      source.addEventListener(kind, (ev) => {
        if (ev.lastEventId) lastEventId = ev.lastEventId;
        let data;
        try {
          data = JSON.parse(ev.data);
        } catch {
          return; // a malformed frame is skipped, the stream goes on
        }
        handlers[kind]?.(data);
      });
    }
    // Tickets are short-lived, so rather than let EventSource retry with a spent one, start over.
    source.onerror = () => {
      source.close();
      onState("offline", "stream interrupted; reconnecting");
      later();
    };
  }

  function later() {
    if (stopped) return;
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 15000);
  }

  connect();
  return { close: () => ((stopped = true), source?.close()) };
}
