import { createHash } from "node:crypto";

/**
 * A ChargeBridge message id derived from the OCPP call's content, not from its OCPP message id:
 * a charge box may resend a transaction message under a new message id (after a reconnect, or
 * when the gateway crashed before answering), and Central applies each `id` once per charge
 * point, so the same content must map to the same id. Fits ID_PATTERN (protocol/ids.ts).
 */
export function contentId(kind: string, ...parts: (string | number | undefined | null)[]): string {
  return `o16-${kind}-${digest(...parts)}`;
}

export function digest(...parts: (string | number | undefined | null)[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 32);
}
