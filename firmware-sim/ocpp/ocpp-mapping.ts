import type { ChargerStatus } from "../../protocol/index.ts";

/** OCPP 1.6 §7.7 ChargePointStatus for each of the firmware model's states. */
export const OCPP_STATUS: Record<ChargerStatus, string> = {
  available: "Available",
  reserved: "Reserved",
  charging: "Charging",
  faulted: "Faulted",
  unavailable: "Unavailable",
};

/** OCPP 1.6 §7.45 Reason for the firmware model's stop reasons; anything else is Other. */
export function stopReason(reason: string | null): string {
  switch (reason) {
    case "remote":
      return "Remote";
    case "ev_full":
      return "EVDisconnected";
    case "local":
      return "Local";
    case "deauthorized":
      return "DeAuthorized";
    case "fault":
      return "EmergencyStop";
    default:
      return "Other";
  }
}

/**
 * ReserveNow.conf status (§6.45, §7.37) for the firmware model's refusal reason. "Occupied" is
 * what a connector that is charging or already reserved answers; a refusal for any other
 * reason (expiry already past by our clock) is Rejected.
 */
export function reserveRefusal(reason: string): "Occupied" | "Faulted" | "Unavailable" | "Rejected" {
  if (/charger is (charging|reserved)/.test(reason)) return "Occupied";
  if (/charger is faulted/.test(reason)) return "Faulted";
  if (/charger is unavailable/.test(reason)) return "Unavailable";
  return "Rejected";
}

/** CiString50 fields (vendorErrorCode, info) must not be longer (§7.13 StatusNotification). */
export function ci50(text: string): string {
  return text.length <= 50 ? text : text.slice(0, 50);
}
