import { checkCharger, type CheckChargerDeps, type CheckVerdict } from "../credentials/check-charger.ts";

/**
 * OCPP security profiles 1 and 2 (OCPP 1.6 security whitepaper §2): HTTP Basic on the WebSocket
 * upgrade, username = the cpId in the path, password = the secret from POST /v1/charge-points,
 * checked by the same admission check (and rate limits) as MQTT's CONNECT.
 */
export function authenticateUpgrade(
  deps: CheckChargerDeps,
  upgrade: { cpId: string; authorization: string | undefined; address: string },
): Promise<CheckVerdict> {
  const { username, password } = parseBasic(upgrade.authorization);
  return checkCharger(deps, { cpId: upgrade.cpId, username, password, address: upgrade.address });
}

/** RFC 7617; the username is everything before the first colon (a cpId has none). */
export function parseBasic(header: string | undefined): { username?: string; password?: string } {
  const m = /^\s*basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header ?? "");
  if (!m) return {};
  const text = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) return {};
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
