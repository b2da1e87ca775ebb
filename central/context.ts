import type { Clock } from "../platform/clock.ts";
import type { Logger } from "../platform/logger.ts";
import type { TopicNames } from "../protocol/index.ts";
import type { CentralConfig } from "./config.ts";
import type { Db } from "./db/db.ts";
import type { CentralMetrics } from "./metrics.ts";

/** What every Central operation needs; built once in central/create-central.ts. */
export interface CentralContext {
  db: Db;
  clock: Clock;
  config: CentralConfig;
  log: Logger;
  metrics: CentralMetrics;
  topics: TopicNames;
  /** Tells the outbox publisher that committed commands are waiting. */
  notifyOutbox(): void;
}
