import type { Context, MiddlewareHandler } from "hono";
import { sign, verify } from "hono/jwt";
import { AppError } from "../../platform/errors.ts";

/** A `gateway` principal may only post its own health record (routes/gateway-health-post.ts). */
export type Principal = { role: "operator" } | { role: "driver"; driverId: string } | { role: "gateway"; gatewayId: string };

export interface AuthConfig {
  operatorToken: string;
  tokenSecret: string;
  driverTokenTtlSeconds: number;
  now: () => number;
  /** Runs once the token is resolved and its role admitted; throws to refuse (rate limits). */
  admit?: (principal: Principal) => void;
  /**
   * The token generation a driver's tokens must carry (undefined: no such driver). Issuing a new
   * generation revokes the driver's older tokens at once, on every Central instance, which is why
   * it is read per request rather than cached.
   */
  tokenGeneration?: (driverId: string) => Promise<number | undefined>;
  /**
   * The same for gateway tokens (undefined: none issued). Without it no gateway token is honoured:
   * gateway tokens do not expire, so the generation is their only revocation.
   */
  gatewayTokenGeneration?: (gatewayId: string) => Promise<number | undefined>;
}

export type AuthEnv = { Variables: { principal: Principal } };

function bearer(c: Context): string {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new AppError("unauthorized", "Missing bearer token");
  return match[1]!;
}

function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** A signed driver token; `generation` is the driver's current one (see `tokenGeneration`). */
export async function issueDriverToken(config: AuthConfig, driverId: string, generation = 0): Promise<string> {
  const iat = Math.floor(config.now() / 1000);
  return sign({ sub: driverId, role: "driver", gen: generation, iat, exp: iat + config.driverTokenTtlSeconds }, config.tokenSecret, "HS256");
}

/**
 * A signed gateway token. It has no expiry (a gateway runs unattended for months); issuing the
 * next generation (POST /v1/gateways/{gatewayId}/token) revokes the earlier ones.
 */
export async function issueGatewayToken(config: AuthConfig, gatewayId: string, generation: number): Promise<string> {
  const iat = Math.floor(config.now() / 1000);
  return sign({ sub: gatewayId, role: "gateway", gen: generation, iat }, config.tokenSecret, "HS256");
}

const refused = () => new AppError("unauthorized", "Invalid or expired token");

async function resolve(config: AuthConfig, token: string): Promise<Principal> {
  if (safeEqual(token, config.operatorToken)) return { role: "operator" };
  let payload: Awaited<ReturnType<typeof verify>>;
  try {
    // Expiry is checked against our Clock, not the library's Date.now(), so tests can move time.
    payload = await verify(token, config.tokenSecret, { alg: "HS256", exp: false, nbf: false, iat: false });
  } catch {
    throw refused(); // forged and malformed tokens get the same answer as expired ones
  }
  if (payload.role === "gateway" && typeof payload.sub === "string" && typeof payload.gen === "number") {
    if (!config.gatewayTokenGeneration || (await config.gatewayTokenGeneration(payload.sub)) !== payload.gen) throw refused();
    return { role: "gateway", gatewayId: payload.sub };
  }
  const live = typeof payload.exp === "number" && payload.exp * 1000 > config.now();
  if (!live || payload.role !== "driver" || typeof payload.sub !== "string") throw refused();
  if (config.tokenGeneration) {
    // Outside the try: a database that cannot answer is a 5xx, not a reason to sign anyone out.
    // Tokens from before generations existed carry none; they are generation 0.
    const generation = typeof payload.gen === "number" ? payload.gen : 0;
    if ((await config.tokenGeneration(payload.sub)) !== generation) throw refused();
  }
  return { role: "driver", driverId: payload.sub };
}

/** Admits the listed roles; everyone else gets 401 (no valid token) or 403 (wrong role). */
export function requireRole(config: AuthConfig, ...roles: Principal["role"][]): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const principal = await resolve(config, bearer(c));
    if (!roles.includes(principal.role)) throw new AppError("forbidden", "This endpoint is not for this token");
    config.admit?.(principal);
    c.set("principal", principal);
    await next();
  };
}

export function gatewayIdOf(c: Context<AuthEnv>): string {
  const p = c.get("principal");
  if (p.role !== "gateway") throw new AppError("forbidden", "A gateway token is required");
  return p.gatewayId;
}

export function driverIdOf(c: Context<AuthEnv>): string {
  const p = c.get("principal");
  if (p.role !== "driver") throw new AppError("forbidden", "A driver token is required");
  return p.driverId;
}
