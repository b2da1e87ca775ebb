/**
 * The gateway's data dir as a previous run would have left it, written before it starts:
 * - credentials.json: one cheap hash for every charger (the bench measures holding connections
 *   and moving messages, not PBKDF2 at connect time), as bench/gateway and bench/fleet do;
 * - ocpp-ids.jsonl: a live ReserveNow per throughput box (gateway/ocpp/id-maps.ts's entries), so
 *   its StartTransaction is Accepted and its MeterValues map to `meter` events that are fsynced
 *   before the CALLRESULT. Without a ChargeBridge transaction the gateway answers MeterValues
 *   without writing anything, which would measure nothing of the durable path.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hashSecret } from "../../platform/password-hash.ts";

export interface SeededBox {
  cpId: string;
  reservation?: { ocppId: number; reservationId: string; idTag: string };
}

export function seedBoxes(cpIds: string[], withReservation: boolean, firstOcppId = 1): SeededBox[] {
  return cpIds.map((cpId, i) => ({
    cpId,
    reservation: withReservation ? { ocppId: firstOcppId + i, reservationId: `res_ocppbench_${firstOcppId + i}`, idTag: `OB${String(firstOcppId + i).padStart(10, "0")}` } : undefined,
  }));
}

export async function seedDataDir(dataDir: string, password: string, cpIds: string[], boxes: SeededBox[]): Promise<void> {
  const dir = join(dataDir, "gateway");
  await mkdir(dir, { recursive: true });
  const hash = await hashSecret(password, 1_000);
  await writeFile(join(dir, "credentials.json"), JSON.stringify(Object.fromEntries(cpIds.map((id) => [id, hash]))));
  const expiresAt = Date.now() + 86_400_000;
  const lines = boxes
    .filter((b) => b.reservation)
    .map((b) => JSON.stringify({ op: "reservation", r: { ...b.reservation, cpId: b.cpId, box: b.cpId, connectorId: 1, expiresAt } }));
  await writeFile(join(dir, "ocpp-ids.jsonl"), lines.length ? `${lines.join("\n")}\n` : "");
}
