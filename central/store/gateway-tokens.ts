import type { Sql } from "../db/db.ts";

/** The generation a gateway token must carry to be honoured; undefined if none was ever issued. */
export async function gatewayTokenGeneration(sql: Sql, gatewayId: string): Promise<number | undefined> {
  const rows = await sql.query<{ token_generation: number }>("SELECT token_generation FROM gateway_tokens WHERE gateway_id = $1", [gatewayId]);
  return rows[0]?.token_generation;
}

/** Moves the gateway to its next token generation (1 for the first), revoking every earlier token. */
export async function nextGatewayTokenGeneration(sql: Sql, gatewayId: string): Promise<number> {
  const rows = await sql.query<{ token_generation: number }>(
    `INSERT INTO gateway_tokens (gateway_id, token_generation) VALUES ($1, 1)
     ON CONFLICT (gateway_id) DO UPDATE SET token_generation = gateway_tokens.token_generation + 1
     RETURNING token_generation`,
    [gatewayId],
  );
  return rows[0]!.token_generation;
}
