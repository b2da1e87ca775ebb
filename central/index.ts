export { createCentral, type Central, type CentralOptions } from "./create-central.ts";
export { loadCentralConfig, centralConfigSchema, type CentralConfig } from "./config.ts";
export { openDb } from "./db/open-db.ts";
export { migrate, MIGRATIONS } from "./db/migrations.ts";
export type { Db, Sql } from "./db/db.ts";
export type { CentralContext } from "./context.ts";
