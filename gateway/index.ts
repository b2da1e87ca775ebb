export { createGateway, type Gateway, type GatewayOptions } from "./create-gateway.ts";
export { loadGatewayConfig, gatewayConfigSchema, type GatewayConfig } from "./config.ts";
export type { DurableQueue, QueueEntry, QueueStats } from "./queue/durable-queue.ts";
export { openFileQueue } from "./queue/file-queue.ts";
export { createMemoryQueue } from "./queue/memory-queue.ts";
