import type { Sql } from "../db/db.ts";

export async function insertDriver(sql: Sql, driverId: string, name: string, now: Date): Promise<void> {
  await sql.query("INSERT INTO drivers (driver_id, name, created_at) VALUES ($1, $2, $3)", [driverId, name, now]);
}

export async function driverExists(sql: Sql, driverId: string): Promise<boolean> {
  const rows = await sql.query("SELECT 1 FROM drivers WHERE driver_id = $1", [driverId]);
  return rows.length === 1;
}

/** The generation a driver token must carry to be honoured; undefined if there is no such driver. */
export async function driverTokenGeneration(sql: Sql, driverId: string): Promise<number | undefined> {
  const rows = await sql.query<{ token_generation: number }>("SELECT token_generation FROM drivers WHERE driver_id = $1", [driverId]);
  return rows[0]?.token_generation;
}

/** Moves the driver to a new token generation, which revokes every token issued before. */
export async function nextTokenGeneration(sql: Sql, driverId: string): Promise<number | undefined> {
  const rows = await sql.query<{ token_generation: number }>(
    "UPDATE drivers SET token_generation = token_generation + 1 WHERE driver_id = $1 RETURNING token_generation",
    [driverId],
  );
  return rows[0]?.token_generation;
}

export type DriverRow = {
  driver_id: string;
  name: string;
  created_at: Date;
};

export async function getDriver(sql: Sql, driverId: string): Promise<DriverRow | undefined> {
  const rows = await sql.query<DriverRow>("SELECT driver_id, name, created_at FROM drivers WHERE driver_id = $1", [driverId]);
  return rows[0];
}
