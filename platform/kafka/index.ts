export { KafkaBus, createKafkaBus } from "./kafka-bus.ts";
export { BusClosedError, type BusLogger, type KafkaBusOptions } from "./kafka-config.ts";
