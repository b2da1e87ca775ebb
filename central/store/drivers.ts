import type { Sql } from "../db/db.ts";

export async function insertDriver(sql: Sql, driverId: string, name: string, now: Date): Promise<void> {
  await sql.query("INSERT INTO drivers (driver_id, name, created_at) VALUES ($1, $2, $3)", [driverId, name, now]);
}

export async function driverExists(sql: Sql, driverId: string): Promise<boolean> {
  const rows = await sql.query("SELECT 1 FROM drivers WHERE driver_id = $1", [driverId]);
  return rows.length === 1;
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
