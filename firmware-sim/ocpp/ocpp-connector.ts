import type { ChargerStatus, UpstreamType } from "../../protocol/index.ts";
import type { ChargerStats, FleetCharger } from "../charger.ts";
import { ChargePointFirmware, type FirmwareOptions, type Outgoing } from "../firmware.ts";
import { ci50, OCPP_STATUS, stopReason } from "./ocpp-mapping.ts";
import type { OutboxCall } from "./ocpp-outbox.ts";

/** One transaction as the charger knows it; `transactionId` arrives with StartTransaction.conf. */
export interface OcppTransaction {
  reservationId: number | null;
  idTag: string;
  meterStart: number;
  transactionId: number | null;
  /** StartTransaction.conf's idTagInfo.status, once it came. */
  authorization: string | null;
  stopped: boolean;
}

/** What a connector needs from its box: the link and the ordered call queue. */
export interface ConnectorHost {
  readonly connected: boolean;
  enqueue(call: OutboxCall): boolean;
  stats(): ChargerStats;
  start(): Promise<void>;
  stop(): Promise<void>;
  goOffline(ms: number): boolean;
}

const WH = (v: number) => String(Math.round(v));

/**
 * Connector `connectorId` of an OCPP 1.6J box, and the charge point ChargeBridge knows it as.
 * The firmware model (reservation hold on the charger's clock, power curve, faults) is the MQTT
 * simulator's; this class turns what it produces into OCPP calls: `status` → StatusNotification,
 * `charging_started` → StartTransaction, `meter` → MeterValues, `charging_stopped` →
 * StopTransaction. Each call's timestamp is taken when the firmware produced it, so a call
 * queued offline reaches Central with its original time.
 */
export class OcppConnector implements FleetCharger {
  readonly firmware: ChargePointFirmware;
  /** OCPP reservationId → the idTag ReserveNow gave it (RemoteStartTransaction carries the idTag). */
  readonly idTags = new Map<number, string>();
  readonly transactions: OcppTransaction[] = [];
  current: OcppTransaction | null = null;
  /** The idTag RemoteStartTransaction named, used by the StartTransaction it causes. */
  pendingIdTag: string | null = null;
  private faulted: { code: string; message: string } | null = null;

  constructor(
    readonly cpId: string,
    readonly connectorId: number,
    private readonly box: ConnectorHost,
    firmware: Omit<FirmwareOptions, "cpId">,
  ) {
    this.firmware = new ChargePointFirmware({ ...firmware, cpId }, (type, fields, onAcked) => this.produce(type, fields, onAcked));
  }

  get status(): ChargerStatus {
    return this.firmware.status;
  }
  get connected(): boolean {
    return this.box.connected;
  }
  /** The box's counters belong to connector 1 only, so a fleet's sums count each call once. */
  stats(): ChargerStats {
    const s = this.box.stats();
    return this.connectorId === 1 ? s : { produced: 0, acked: 0, connects: 0, buffer: { size: 0, peak: 0, dropped: {}, skipped: 0 } };
  }
  start(): Promise<void> {
    return this.box.start();
  }
  stop(): Promise<void> {
    return this.box.stop();
  }
  goOffline(ms: number): boolean {
    return this.box.goOffline(ms);
  }
  fault(code: string, message: string): void {
    this.firmware.fault(code, message);
  }
  clearFault(): void {
    this.firmware.clearFault();
  }

  /** The OCPP reservationId of this connector's live reservation. */
  get reservationId(): number | null {
    const r = this.firmware.reservation?.reservationId;
    return r === undefined ? null : Number(r);
  }

  /** StatusNotification now, as on every (re)connection (§4.9: after boot the charger reports each connector). */
  reportStatus(): void {
    this.enqueueStatus("status", this.firmware.status);
  }

  /** Built now: the status and error code as they are at this moment, whenever it is sent. */
  private enqueueStatus(type: UpstreamType, status: ChargerStatus): void {
    const params = this.statusParams(status);
    this.enqueue(type, "StatusNotification", () => params);
  }

  private produce<T extends UpstreamType>(type: T, fields: Outgoing<T>, onAcked?: () => void): string {
    const f = fields as Record<string, unknown>;
    switch (type) {
      case "status":
        // The fault's own StatusNotification already said Faulted, with the error code.
        if (f.status === "faulted" && this.faulted) break;
        this.enqueueStatus("status", f.status as ChargerStatus);
        break;
      case "fault":
        this.faulted = { code: String(f.code), message: String(f.message) };
        this.enqueueStatus("fault", "faulted");
        break;
      case "fault_cleared":
        this.faulted = null; // the status that follows carries errorCode NoError
        break;
      case "charging_started":
        this.startTransaction(f.meterStartWh as number);
        break;
      case "meter":
        this.meterValues(f.energyWh as number, f.powerW as number | undefined);
        break;
      case "charging_stopped":
        this.stopTransaction(f.meterStopWh as number, f.reason as string | null);
        break;
      case "command_result":
        // The answer is the CALLRESULT of the call being handled (ocpp-commands.ts).
        onAcked?.();
        break;
      default:
        break;
    }
    return "";
  }

  private enqueue(type: UpstreamType, action: string, params: () => Record<string, unknown>, onResult?: OutboxCall["onResult"]): void {
    this.box.enqueue({ type, action, params, ...(onResult ? { onResult } : {}) });
  }

  private timestamp(): string {
    return new Date(this.firmware.now()).toISOString();
  }

  private statusParams(status: ChargerStatus): Record<string, unknown> {
    const timestamp = this.timestamp();
    const fault = status === "faulted" ? this.faulted : null;
    return {
      connectorId: this.connectorId,
      status: OCPP_STATUS[status],
      errorCode: fault ? "OtherError" : "NoError",
      ...(fault ? { vendorErrorCode: ci50(fault.code), info: ci50(fault.message) } : {}),
      timestamp,
    };
  }

  private startTransaction(meterStartWh: number): void {
    const reservationId = this.reservationIdOf(this.firmware.charging?.reservationId);
    const idTag = this.pendingIdTag ?? (reservationId !== null ? this.idTags.get(reservationId) : undefined) ?? "LOCAL";
    this.pendingIdTag = null;
    const tx: OcppTransaction = { reservationId, idTag, meterStart: Math.round(meterStartWh), transactionId: null, authorization: null, stopped: false };
    this.transactions.push(tx);
    this.current = tx;
    const timestamp = this.timestamp();
    const params = { connectorId: this.connectorId, idTag, meterStart: tx.meterStart, timestamp, ...(reservationId !== null ? { reservationId } : {}) };
    this.enqueue("charging_started", "StartTransaction", () => params, (result) => {
      tx.transactionId = result.transactionId as number;
      tx.authorization = String((result.idTagInfo as { status?: string } | undefined)?.status ?? "");
      // §5.11 / StopTransactionOnInvalidId: a transaction Central did not authorise ends at once.
      if (tx.authorization !== "Accepted" && !tx.stopped && this.current === tx) this.firmware.stopCharging("deauthorized");
    });
  }

  private meterValues(energyWh: number, powerW: number | undefined): void {
    const tx = this.current;
    const timestamp = this.timestamp();
    const sampledValue: Record<string, unknown>[] = [
      { value: WH(energyWh), context: "Sample.Periodic", measurand: "Energy.Active.Import.Register", unit: "Wh" },
      ...(powerW !== undefined ? [{ value: String(Math.round(powerW)), context: "Sample.Periodic", measurand: "Power.Active.Import", unit: "W" }] : []),
    ];
    this.enqueue("meter", "MeterValues", () => ({
      connectorId: this.connectorId,
      ...(tx?.transactionId != null ? { transactionId: tx.transactionId } : {}),
      meterValue: [{ timestamp, sampledValue }],
    }));
  }

  private stopTransaction(meterStopWh: number, reason: string | null): void {
    const tx = this.current;
    this.current = null;
    if (!tx) return;
    tx.stopped = true;
    const timestamp = this.timestamp();
    const meterStop = Math.round(meterStopWh);
    // -1 only if StartTransaction was refused outright: Central still gets the stop (docs/ocpp.md).
    this.enqueue("charging_stopped", "StopTransaction", () => ({ transactionId: tx.transactionId ?? -1, idTag: tx.idTag, meterStop, timestamp, reason: stopReason(reason) }));
  }

  private reservationIdOf(id: string | undefined): number | null {
    if (id === undefined) return null;
    const n = Number(id);
    return Number.isInteger(n) ? n : null;
  }
}
