import { emit, type OcppHandler } from "../context.ts";
import { contentId } from "../message-id.ts";

interface SampledValue {
  value: string;
  measurand?: string;
  unit?: string;
  format?: string;
  phase?: string;
}

/** The total (no phase), plain-number reading of one measurand, in Wh or W. */
function reading(values: SampledValue[], measurand: string, kiloUnit: string): number | undefined {
  // SampledValue: measurand defaults to Energy.Active.Import.Register, format to Raw, unit to Wh.
  const v = values.find((s) => (s.measurand ?? "Energy.Active.Import.Register") === measurand && !s.phase && (s.format ?? "Raw") === "Raw");
  if (!v) return undefined;
  const n = Number(v.value);
  return v.unit === kiloUnit ? n * 1000 : n;
}

/**
 * MeterValues (OCPP 1.6 §4.7) → one `meter` per meterValue entry that carries the
 * Energy.Active.Import.Register total (Wh or kWh; the register, as for MQTT), with
 * Power.Active.Import (W or kW) or 0 when the box leaves it out. Readings outside a ChargeBridge
 * transaction are answered and not mapped. Each event's id comes from its content, so a resent
 * MeterValues is applied once.
 */
export const meterValues: OcppHandler = async (ctx, box, p) => {
  const t = p.transactionId !== undefined ? ctx.maps.transaction(p.transactionId) : ctx.maps.openTransactionOn(box, p.connectorId);
  if (!t || t.box !== box || !t.reservationId) return {};
  const writes: Promise<void>[] = [];
  for (const mv of p.meterValue as { timestamp: string; sampledValue: SampledValue[] }[]) {
    const energyWh = reading(mv.sampledValue, "Energy.Active.Import.Register", "kWh");
    if (energyWh === undefined) continue;
    const powerW = reading(mv.sampledValue, "Power.Active.Import", "kW") ?? 0;
    writes.push(emit(ctx, t.cpId, "meter", { id: contentId("mv", box, t.txId, mv.timestamp, energyWh), ts: mv.timestamp, reservationId: t.reservationId, energyWh, powerW }));
  }
  await Promise.all(writes);
  return {};
};
