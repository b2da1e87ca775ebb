import { JsonlLog } from "../storage/jsonl-log.ts";

/** A ChargeBridge reservation as the charge box knows it (ReserveNow, OCPP 1.6 §5.13). */
export interface OcppReservation {
  /** The integer `reservationId` the gateway gave the box. */
  ocppId: number;
  /** ChargeBridge's reservation id. */
  reservationId: string;
  /** The connector's charge point (`box` or `box-N`). */
  cpId: string;
  box: string;
  connectorId: number;
  /** CiString20 the gateway generated for this reservation. */
  idTag: string;
  expiresAt: number;
  ended?: boolean;
}

export interface OcppTransaction {
  txId: number;
  box: string;
  connectorId: number;
  cpId: string;
  /** null: a transaction ChargeBridge did not authorise (started offline, no reservation). */
  reservationId: string | null;
  meterStartWh: number;
  /** Digest of the StartTransaction's content: a retried call finds its transaction by it. */
  startKey: string;
  stopped?: boolean;
}

type Entry =
  | { op: "next"; reservation: number; tx: number }
  | { op: "connector"; box: string; connectorId: number; cpId: string }
  | { op: "reservation"; r: OcppReservation }
  | { op: "reservation_ended"; ocppId: number }
  | { op: "tx"; t: OcppTransaction }
  | { op: "tx_stopped"; txId: number };

/**
 * The gateway's durable OCPP state: integer reservation and transaction ids it assigned and what
 * they stand for, and the connectors each box has spoken for. Every change is fsynced before the
 * OCPP answer that depends on it goes out, so a box never holds an id the gateway could forget.
 * Compaction at open keeps live entries and the counters (ids are never reused).
 */
export class IdMaps {
  private nextReservation = 1;
  private nextTx = 1;
  private readonly reservations = new Map<number, OcppReservation>();
  private readonly byReservationId = new Map<string, number>();
  private readonly transactions = new Map<number, OcppTransaction>();
  private readonly byStartKey = new Map<string, number>();
  private readonly connectors = new Map<string, Map<number, string>>();
  /** cpId → its box and connector: routeOf runs for every OCPP event (context.ts emit). */
  private readonly routes = new Map<string, { box: string; connectorId: number }>();
  private log!: JsonlLog<Entry>;

  static async open(file?: string, now = Date.now()): Promise<IdMaps> {
    const maps = new IdMaps();
    maps.log = await JsonlLog.open<Entry>(file, (e) => maps.replay(e), () => maps.snapshot(now));
    return maps;
  }

  private replay(e: Entry): void {
    if (e.op === "next") {
      this.nextReservation = Math.max(this.nextReservation, e.reservation);
      this.nextTx = Math.max(this.nextTx, e.tx);
    } else if (e.op === "connector") this.setConnector(e.box, e.connectorId, e.cpId);
    else if (e.op === "reservation") this.setReservation(e.r);
    else if (e.op === "reservation_ended") {
      const r = this.reservations.get(e.ocppId);
      if (r) r.ended = true;
    } else if (e.op === "tx") this.setTx(e.t);
    else if (e.op === "tx_stopped") {
      const t = this.transactions.get(e.txId);
      if (t) t.stopped = true;
    }
  }

  /** Ended reservations and stopped transactions are dropped at compaction; a day's grace for the rest. */
  private snapshot(now: number): Entry[] {
    const out: Entry[] = [{ op: "next", reservation: this.nextReservation, tx: this.nextTx }];
    for (const [box, conns] of this.connectors) for (const [connectorId, cpId] of conns) out.push({ op: "connector", box, connectorId, cpId });
    const openTx = [...this.transactions.values()].filter((t) => !t.stopped);
    const kept = new Set(openTx.map((t) => t.reservationId));
    for (const r of this.reservations.values()) {
      if (kept.has(r.reservationId) || (!r.ended && r.expiresAt > now - 86_400_000)) out.push({ op: "reservation", r });
    }
    for (const t of openTx) out.push({ op: "tx", t });
    return out;
  }

  private setReservation(r: OcppReservation): void {
    this.reservations.set(r.ocppId, r);
    this.byReservationId.set(r.reservationId, r.ocppId);
    this.nextReservation = Math.max(this.nextReservation, r.ocppId + 1);
  }

  private setTx(t: OcppTransaction): void {
    this.transactions.set(t.txId, t);
    this.byStartKey.set(t.startKey, t.txId);
    this.nextTx = Math.max(this.nextTx, t.txId + 1);
  }

  private setConnector(box: string, connectorId: number, cpId: string): void {
    let conns = this.connectors.get(box);
    if (!conns) this.connectors.set(box, (conns = new Map()));
    conns.set(connectorId, cpId);
    this.routes.set(cpId, { box, connectorId });
  }

  /** Connectors (≥ 1) this box has spoken for, with their charge points. */
  connectorsOf(box: string): Map<number, string> {
    return this.connectors.get(box) ?? new Map();
  }

  /** Which box and connector speak for a charge point, if an OCPP box ever did. */
  routeOf(cpId: string): { box: string; connectorId: number } | undefined {
    return this.routes.get(cpId);
  }

  rememberConnector(box: string, connectorId: number, cpId: string): Promise<void> {
    if (this.connectors.get(box)?.get(connectorId) === cpId) return Promise.resolve();
    this.setConnector(box, connectorId, cpId);
    return this.log.append({ op: "connector", box, connectorId, cpId });
  }

  /** The reservation's box-side ids, assigned (and fsynced) on first use. */
  reservation(fields: Omit<OcppReservation, "ocppId" | "idTag">): { r: OcppReservation; durable: Promise<void> } {
    const known = this.byReservationId.get(fields.reservationId);
    if (known !== undefined) {
      const r = this.reservations.get(known)!;
      if (r.expiresAt === fields.expiresAt) return { r, durable: Promise.resolve() };
      const updated = { ...r, expiresAt: fields.expiresAt, ended: false };
      this.setReservation(updated);
      return { r: updated, durable: this.log.append({ op: "reservation", r: updated }) };
    }
    const r: OcppReservation = { ...fields, ocppId: this.nextReservation++, idTag: newIdTag() };
    this.setReservation(r);
    return { r, durable: this.log.append({ op: "reservation", r }) };
  }

  byOcppId(ocppId: number): OcppReservation | undefined {
    return this.reservations.get(ocppId);
  }

  byChargeBridgeId(reservationId: string): OcppReservation | undefined {
    const id = this.byReservationId.get(reservationId);
    return id === undefined ? undefined : this.reservations.get(id);
  }

  /** A reservation the box may still use: not ended and, given `now`, not past its expiry. */
  liveByIdTag(box: string, idTag: string, now?: number): OcppReservation | undefined {
    for (const r of this.reservations.values()) if (r.box === box && r.idTag === idTag && !r.ended && (now === undefined || r.expiresAt > now)) return r;
    return undefined;
  }

  endReservation(ocppId: number): Promise<void> {
    const r = this.reservations.get(ocppId);
    if (!r || r.ended) return Promise.resolve();
    r.ended = true;
    return this.log.append({ op: "reservation_ended", ocppId });
  }

  transaction(txId: number): OcppTransaction | undefined {
    return this.transactions.get(txId);
  }

  openTransactionFor(reservationId: string): OcppTransaction | undefined {
    for (const t of this.transactions.values()) if (t.reservationId === reservationId && !t.stopped) return t;
    return undefined;
  }

  openTransactionOn(box: string, connectorId: number): OcppTransaction | undefined {
    for (const t of this.transactions.values()) if (t.box === box && t.connectorId === connectorId && !t.stopped) return t;
    return undefined;
  }

  /** The connector's open transaction that is a ChargeBridge session (it has a reservation). */
  openSessionOn(box: string, connectorId: number): OcppTransaction | undefined {
    for (const t of this.transactions.values()) if (t.box === box && t.connectorId === connectorId && !t.stopped && t.reservationId) return t;
    return undefined;
  }

  /**
   * The transaction for a StartTransaction: a retry (same content digest) gets the id it was
   * given before; otherwise a new one. The id is taken synchronously; `durable` is its fsync.
   */
  startTransaction(fields: Omit<OcppTransaction, "txId">): {
    t: OcppTransaction;
    retry: boolean;
    /** Transactions still open on this connector that the new one ends (see below). */
    superseded: OcppTransaction[];
    durable: Promise<void>;
  } {
    const known = this.byStartKey.get(fields.startKey);
    if (known !== undefined) return { t: this.transactions.get(known)!, retry: true, superseded: [], durable: Promise.resolve() };
    // A connector has one transaction at a time (OCPP 1.6 §3.6, §4.8): a new start means the box
    // ended the earlier one, whether or not it said so. Boxes that get idTagInfo Invalid and never
    // send StopTransaction (seen with the SAP simulator) would otherwise leave transactions open
    // for good: kept by every compaction, and found by the connector's status mapping.
    const superseded = [...this.transactions.values()].filter((o) => o.box === fields.box && o.connectorId === fields.connectorId && !o.stopped);
    const writes = superseded.map((o) => {
      o.stopped = true;
      return this.log.append({ op: "tx_stopped", txId: o.txId });
    });
    const t: OcppTransaction = { ...fields, txId: this.nextTx++ };
    this.setTx(t);
    writes.push(this.log.append({ op: "tx", t }));
    return { t, retry: false, superseded, durable: Promise.all(writes).then(() => {}) };
  }

  stopTransaction(txId: number): Promise<void> {
    const t = this.transactions.get(txId);
    if (!t || t.stopped) return Promise.resolve();
    t.stopped = true;
    return this.log.append({ op: "tx_stopped", txId });
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

/** 20 characters (CiString20) that only this reservation carries. */
function newIdTag(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return `CB${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
