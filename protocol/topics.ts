import { CP_ID_PATTERN } from "./ids.ts";

export const TOPIC_PREFIX = "chargebridge/v1";

export type Direction = "up" | "down";

export function upTopic(cpId: string, type: string): string {
  return `${TOPIC_PREFIX}/${cpId}/up/${type}`;
}

export function downTopic(cpId: string, type: string): string {
  return `${TOPIC_PREFIX}/${cpId}/down/${type}`;
}

/** The filter a charger subscribes to for its commands. */
export function downFilter(cpId: string): string {
  return `${TOPIC_PREFIX}/${cpId}/down/#`;
}

export interface ParsedTopic {
  cpId: string;
  direction: Direction;
  type: string;
}

/** Splits `chargebridge/v1/{cpId}/{up|down}/{type}`; anything else, wildcards included, is null. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split("/");
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX) return null;
  const [, , cpId, direction, type] = parts as [string, string, string, string, string];
  if (!CP_ID_PATTERN.test(cpId)) return null;
  if (direction !== "up" && direction !== "down") return null;
  if (!/^[a-z_]{1,64}$/.test(type)) return null;
  return { cpId, direction, type };
}
