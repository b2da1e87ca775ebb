import type { ChargerStatus } from "../protocol/index.ts";
import type { ChargePointFirmware } from "./firmware.ts";
import type { OfflineBufferStats } from "./offline-buffer.ts";

export interface ChargerStats {
  /** Messages meant for the platform: sent, or kept for later (skipped heartbeats are not). */
  produced: number;
  /** Acknowledged by the platform (PUBACK for MQTT, CALLRESULT for OCPP). */
  acked: number;
  connects: number;
  buffer: OfflineBufferStats;
}

/**
 * What a fleet, the scenario chaos and the HIL invariants need from one simulated charge point,
 * whatever transport it speaks. SimCharger (MQTT) is one; an OCPP box's connector is another.
 */
export interface FleetCharger {
  readonly cpId: string;
  readonly firmware: ChargePointFirmware;
  readonly status: ChargerStatus;
  readonly connected: boolean;
  stats(): ChargerStats;
  start(): Promise<void>;
  stop(): Promise<void>;
  fault(code: string, message: string): void;
  clearFault(): void;
  /** A network outage of `ms`; false if the link was already down. */
  goOffline(ms: number): boolean;
}
