import type { Clock } from "../../platform/clock.ts";
import type { Logger } from "../../platform/logger.ts";
import { CP_ID_PATTERN } from "../../protocol/index.ts";
import type { CredentialCache } from "../credentials/credential-cache.ts";
import type { createDeadLetterIngest, createIngest } from "../ingest/ingest.ts";
import type { IdMaps } from "./id-maps.ts";

/** What every OCPP call handler works with; one per gateway. */
export interface OcppContext {
  ingest: ReturnType<typeof createIngest>;
  deadLetter: ReturnType<typeof createDeadLetterIngest>;
  maps: IdMaps;
  credentials: CredentialCache;
  clock: Clock;
  log: Logger;
  heartbeatSeconds: number;
  /** Charge points with a fault reported and not yet cleared (memory only: a restart forgets). */
  faults: Set<string>;
  /** A connector charge point the box now speaks for (first seen): commands can go to it. */
  onConnector(box: string, cpId: string): void;
}

/** One call's handler: the box's cpId and the (schema-valid) params in, the result out. */
export type OcppHandler = (ctx: OcppContext, box: string, params: any) => Promise<Record<string, unknown>>;

/**
 * The charge point of a box's connector (docs/ocpp.md, "Connectors"): connector 1 is the box's
 * own cpId; connector N ≥ 2 is `{box}-{N}`, which the box may speak for only while that charge
 * point is provisioned and not revoked in the credential cache. undefined: not one of ours.
 */
export function connectorCpId(ctx: OcppContext, box: string, connectorId: number): string | undefined {
  if (connectorId === 1) return box;
  if (!Number.isInteger(connectorId) || connectorId < 2) return undefined;
  const cpId = `${box}-${connectorId}`;
  return CP_ID_PATTERN.test(cpId) && ctx.credentials.has(cpId) ? cpId : undefined;
}

/** The box itself and every connector charge point it has spoken for and may still. */
export function knownCpIds(ctx: OcppContext, box: string): string[] {
  const out = new Set([box]);
  for (const [connectorId, cpId] of ctx.maps.connectorsOf(box)) if (connectorCpId(ctx, box, connectorId) === cpId) out.add(cpId);
  return [...out];
}

export function nowIso(ctx: OcppContext): string {
  return new Date(ctx.clock.now()).toISOString();
}

/**
 * Ingests one mapped event; resolves when it is fsynced (dead-lettered counts: it is on disk too).
 * The envelope says which box and connector the charge point is: a connector charge point the
 * box spoke for is in the id map; otherwise the charge point is the box itself, connector 1.
 */
export function emit(ctx: OcppContext, cpId: string, type: string, payload: Record<string, unknown>): Promise<void> {
  const route = ctx.maps.routeOf(cpId);
  const origin = { transport: "ocpp1.6", chargeBox: route?.box ?? cpId, connectorId: route?.connectorId ?? 1 } as const;
  return ctx.ingest(cpId, type, JSON.stringify(payload), origin).durable;
}
