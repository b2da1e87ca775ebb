import { createMemoryQueue } from "../../gateway/queue/memory-queue.ts";
import { durableQueueContract } from "../contract/durable-queue.contract.ts";

durableQueueContract("memory", {
  persistent: false,
  create: async ({ maxBytes, clock }) => ({
    queue: createMemoryQueue({ maxBytes, clock }),
    // Nothing survives: a reopened memory queue is a new, empty one.
    reopen: async () => createMemoryQueue({ maxBytes, clock }),
  }),
});
