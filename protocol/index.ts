export * from "./ids.ts";
export * from "./topics.ts";
export * from "./upstream.ts";
export * from "./downstream.ts";
export * from "./bus-records.ts";
export * from "./decode.ts";
export * from "./gateway-health.ts";
export * from "./dead-letter-encoding.ts";
