import { createHmac, randomBytes } from "node:crypto";
import { sign, verify } from "hono/jwt";
import { AppError } from "../../platform/errors.ts";
import type { AuthConfig, Principal } from "../api/auth.ts";

/**
 * Stream tickets (docs/security.md#stream-tickets): `EventSource` cannot send an Authorization
 * header, and a long-lived token in `?token=` would land in every proxy's access log. A ticket is
 * an HS256 JWT under a key derived from TOKEN_SECRET, so any Central instance behind a load
 * balancer can verify it; it lives STREAM_TICKET_TTL_SECONDS and is refused a second time on
 * the instance that saw it (best effort across instances: the short life bounds a replay).
 * It carries `typ: stream_ticket` and no `role`, so it is never accepted as a bearer token.
 */
export class StreamTickets {
  private readonly key: string;
  private readonly used = new Map<string, number>();

  constructor(private readonly auth: AuthConfig, private readonly ttlSeconds: number) {
    // Domain separation: a driver token can never verify as a ticket, nor a ticket as a token.
    this.key = createHmac("sha256", auth.tokenSecret).update("chargebridge stream ticket v1").digest("hex");
  }

  async issue(principal: Principal): Promise<{ ticket: string; expiresAt: string }> {
    const iat = Math.floor(this.auth.now() / 1000);
    const exp = iat + this.ttlSeconds;
    const driver = principal.role === "driver" ? principal : undefined;
    const gen = driver && this.auth.tokenGeneration ? await this.auth.tokenGeneration(driver.driverId) : undefined;
    const payload = { typ: "stream_ticket", act: principal.role, sub: driver?.driverId, gen, jti: randomBytes(12).toString("base64url"), iat, exp };
    return { ticket: await sign(payload, this.key, "HS256"), expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The ticket's principal, once; forged, expired, replayed and revoked tickets get one answer. */
  async redeem(ticket: string): Promise<Principal> {
    const refused = new AppError("unauthorized", "Invalid, expired or already used stream ticket");
    let p: Record<string, unknown>;
    try {
      p = await verify(ticket, this.key, { alg: "HS256", exp: false, nbf: false, iat: false });
    } catch {
      throw refused;
    }
    const now = this.auth.now();
    if (p.typ !== "stream_ticket" || typeof p.exp !== "number" || p.exp * 1000 <= now || typeof p.jti !== "string") throw refused;
    this.forgetExpired(now);
    if (this.used.has(p.jti)) throw refused;
    this.used.set(p.jti, p.exp * 1000);
    if (p.act === "operator") return { role: "operator" };
    if (p.act !== "driver" || typeof p.sub !== "string") throw refused;
    if (this.auth.tokenGeneration) {
      // A driver whose tokens were revoked after the ticket was issued is refused too.
      if ((await this.auth.tokenGeneration(p.sub)) !== (typeof p.gen === "number" ? p.gen : 0)) throw refused;
    }
    return { role: "driver", driverId: p.sub };
  }

  private forgetExpired(now: number): void {
    // Every ticket lives as long, so insertion order is expiry order: stop at the first live one.
    for (const [jti, exp] of this.used) {
      if (exp > now) break;
      this.used.delete(jti);
    }
  }
}
