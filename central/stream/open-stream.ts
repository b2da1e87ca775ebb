import type { Principal } from "../api/auth.ts";
import type { Db } from "../db/db.ts";
import { AppError } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import { logBounds, readReplay } from "./change-log.ts";
import { sseFrame } from "./change-views.ts";
import { readSnapshot } from "./snapshot.ts";
import { StreamClient } from "./stream-client.ts";
import type { StreamHub } from "./stream-hub.ts";
import type { StreamMetrics } from "./stream-metrics.ts";

export interface StreamLimits {
  maxClients: number;
  maxBufferBytes: number;
  staleMs: number;
  /** A resume that would replay more than this gets a fresh snapshot instead. */
  maxReplay: number;
  /** The `retry:` hint (ms) for EventSource's reconnect. */
  retryMs: number;
}

export interface StreamDeps {
  db: Db;
  hub: StreamHub;
  log: Logger;
  metrics: StreamMetrics;
  now: () => number;
  limits: StreamLimits;
}

/** Parses Last-Event-ID; anything but a plain non-negative integer is treated as absent. */
export function parseLastEventId(raw: string | undefined | null): number | undefined {
  if (!raw || !/^\d{1,15}$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/**
 * Opens one client's stream: subscribe first (holding live changes), then either replay what a
 * resuming client missed or send a snapshot, then release the hold from the hub's position.
 */
export async function openStream(deps: StreamDeps, principal: Principal, lastEventId: number | undefined): Promise<StreamClient> {
  const { hub, limits } = deps;
  if (hub.size() >= limits.maxClients) {
    throw new AppError("unavailable", `This instance already serves ${limits.maxClients} streams (STREAM_MAX_CLIENTS); retry another instance or later`);
  }
  let unsubscribe = () => {};
  const client = new StreamClient(principal, limits.maxBufferBytes, (reason) => {
    unsubscribe();
    deps.metrics.disconnected.inc({ reason });
    if (reason === "slow_client") deps.log.warn({ role: principal.role, limit: limits.maxBufferBytes }, "Slow stream client over STREAM_CLIENT_BUFFER_BYTES disconnected");
  });
  unsubscribe = hub.subscribe(client);
  try {
    const upTo = hub.position();
    client.send(`retry: ${limits.retryMs}\n\n`);
    if (!(lastEventId !== undefined && (await replay(deps, client, principal, lastEventId, upTo)))) {
      const data = await readSnapshot(deps.db, principal, deps.now(), limits.staleMs);
      client.send(sseFrame("snapshot", data, upTo));
    }
    client.release(upTo);
    return client;
  } catch (error) {
    client.end("server_stopped");
    throw error;
  }
}

/** Sends what was missed since `lastEventId`; false when the log no longer has it all (or it is too much). */
async function replay(deps: StreamDeps, client: StreamClient, principal: Principal, lastEventId: number, upTo: number): Promise<boolean> {
  if (lastEventId > upTo) return false; // an id from a log that was reset, or from the future
  if (lastEventId === upTo) return true;
  const { oldest } = await logBounds(deps.db);
  if (oldest === null || oldest > lastEventId + 1) return false; // pruned past it
  const rows = await readReplay(deps.db, principal, lastEventId, upTo, deps.limits.maxReplay + 1);
  if (rows.length > deps.limits.maxReplay) return false;
  for (const row of rows) client.send(deps.hub.render(row).frame);
  return true;
}
