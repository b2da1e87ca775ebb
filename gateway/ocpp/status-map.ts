import type { ChargerStatus } from "../../protocol/index.ts";

/**
 * OCPP 1.6 ChargePointStatus (§7.7) to ChargeBridge's status (docs/ocpp.md has the table).
 * ChargeBridge has no "occupied" state: Preparing (a driver is at the connector, no energy yet)
 * is `reserved`, and the suspended states are still `charging` (the session is open, energy
 * only paused). Finishing follows the transaction: `charging` while the gateway still has it
 * open (StopTransaction not yet seen), `available` once it is stopped, so that a box that sends
 * Finishing before StopTransaction does not make Central close the session early.
 */
export function mapStatus(status: string, transactionOpen: boolean): ChargerStatus | undefined {
  switch (status) {
    case "Available":
      return "available";
    case "Preparing":
    case "Reserved":
      return "reserved";
    case "Charging":
    case "SuspendedEV":
    case "SuspendedEVSE":
      return "charging";
    case "Finishing":
      return transactionOpen ? "charging" : "available";
    case "Unavailable":
      return "unavailable";
    case "Faulted":
      return "faulted";
    default:
      return undefined;
  }
}
