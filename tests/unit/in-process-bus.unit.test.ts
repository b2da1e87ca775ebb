import { InProcessBus, createInProcessHub } from "../../platform/in-process-bus.ts";
import { eventBusContract } from "../contract/event-bus.contract.ts";

let n = 0;
eventBusContract("in-process", () => {
  const hub = createInProcessHub();
  return {
    createBus: async () => new InProcessBus({ hub }),
    freshTopic: async (label) => `t-${label}-${++n}`,
  };
});
