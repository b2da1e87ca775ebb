import type { UpstreamType } from "../../protocol/index.ts";
import type { EventHandler } from "./handler.ts";
import { onBoot } from "./on-boot.ts";
import { onChargingStarted } from "./on-charging-started.ts";
import { onChargingStopped } from "./on-charging-stopped.ts";
import { onCommandResult } from "./on-command-result.ts";
import { onFault, onFaultCleared } from "./on-fault.ts";
import { onMeter } from "./on-meter.ts";
import { onStatus } from "./on-status.ts";

const noop: EventHandler<"heartbeat"> = async () => {};

/** One handler per upstream type; the mapped type makes a missing one a compile error. */
export const eventHandlers: { [T in UpstreamType]: EventHandler<T> } = {
  boot: onBoot,
  status: onStatus,
  heartbeat: noop,
  charging_started: onChargingStarted,
  meter: onMeter,
  charging_stopped: onChargingStopped,
  fault: onFault,
  fault_cleared: onFaultCleared,
  command_result: onCommandResult,
};
