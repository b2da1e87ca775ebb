import { delay } from "../../platform/backoff.ts";
import { inBatches } from "../batches.ts";
import type { FleetCharger } from "../charger.ts";
import type { Fleet as AnyFleet } from "../fleet.ts";

type Fleet = AnyFleet<FleetCharger>;
import { startChaos } from "../scenario/chaos.ts";
import { driverJourney, refresh } from "../scenario/drivers.ts";
import { Rng } from "../scenario/random.ts";
import type { Scenario } from "../scenario/schema.ts";
import { commandsAnswered, energyMatchesMeter, noReservationStuck, sessionsStopped, type InvariantResult } from "./invariants.ts";
import { Ledger, type ChargePointView, type SessionView } from "./ledger.ts";
import { Monitor } from "./monitor.ts";
import { buildReport, type Report } from "./report.ts";
import { ApiRefusedError, ApiUnreachableError, type Rest } from "./rest.ts";

export interface HarnessOptions {
  scenario: Scenario;
  scenarioFile: string;
  rest: Rest;
  /** Charge points the run may use; nothing else is reserved or judged. */
  cpIds: string[];
  /** Simulated chargers run by this process; absent in HIL mode, where chargers are whatever is out there. */
  fleet?: Fleet;
  /** Reads the charge-point list; an operator token, or absent to use a harness driver's own. */
  token?: string;
  seed: number;
  /** How long to wait for the charge points to be online before starting. */
  onlineTimeoutMs?: number;
}

/** The run could not start or Central went away: not an invariant verdict (exit code 3). */
export class HarnessError extends Error {
  override name = "HarnessError";
}

export interface Snapshot {
  phase: "waiting" | "arrivals" | "drain" | "checks" | "done";
  elapsedMs: number;
  chargePoints: Record<string, number>;
  outcomes: Record<string, number>;
  liveReservations: number;
  stuck: number;
}

/**
 * Runs one scenario against Central: the driver side through REST, the charger side through
 * the simulated fleet if there is one, then the drain, then the invariant checks. The same code
 * serves simulated chargers and real ones; only the evidence differs (see invariants.ts).
 */
export class Harness {
  readonly ledger = new Ledger();
  private monitor: Monitor | null = null;
  private phase: Snapshot["phase"] = "waiting";
  private readonly startedAt = Date.now();
  /** Fleet messages before the run, so the report's rate covers the run only. */
  private readonly producedBefore: number;

  constructor(private readonly o: HarnessOptions) {
    this.producedBefore = o.fleet?.stats().produced ?? 0;
  }

  snapshot(): Snapshot {
    return {
      phase: this.phase,
      elapsedMs: Date.now() - this.startedAt,
      chargePoints: this.monitor?.counts() ?? {},
      outcomes: this.ledger.outcomes(),
      liveReservations: this.ledger.live().length,
      stuck: this.monitor?.stuck.size ?? 0,
    };
  }

  async run(): Promise<Report> {
    const { scenario, rest } = this.o;
    const graceMs = scenario.invariants.graceSeconds * 1000;
    const token = this.o.token ?? (await this.harnessDriverToken());
    const monitor = (this.monitor = new Monitor(rest, token, new Set(this.o.cpIds), this.ledger, graceMs));
    await this.waitOnline(monitor);
    const rng = new Rng(this.o.seed);

    this.phase = "arrivals";
    monitor.start();
    const chaos = this.o.fleet ? startChaos(this.o.fleet, scenario, new Rng(this.o.seed ^ 0x5eed)) : null;
    const windowStart = Date.now();
    const windowEnd = windowStart + scenario.durationSeconds * 1000;
    const drain = new AbortController();
    // Whatever happens below, no monitor loop or chaos timer outlives the run.
    const cleanup = async () => {
      drain.abort();
      await chaos?.finish();
      await monitor.stop();
    };
    const deadline = () => {
      const lastExpiry = Math.max(0, ...[...this.ledger.reservations.values()].map((r) => Date.parse(r.expiresAt)));
      return Math.max(windowEnd + scenario.drainSeconds * 1000, lastExpiry + graceMs + 5_000);
    };
    const journeys: Promise<void>[] = [];
    const errors: string[] = [];
    let n = 0;
    try {
      for (let at = windowStart + rng.nextArrivalMs(scenario.drivers.arrivalsPerMinute); at < windowEnd; at += rng.nextArrivalMs(scenario.drivers.arrivalsPerMinute)) {
        await delay(at - Date.now());
        if (monitor.failures >= 10) throw new HarnessError(`Central's API stopped answering at ${rest.baseUrl} during the run`);
        const deps = { rest, ledger: this.ledger, rng, drivers: scenario.drivers, graceMs, freeChargePoints: () => monitor.free(), drain: drain.signal, deadline };
        journeys.push(
          driverJourney(++n, deps).catch((error: unknown) => {
            this.ledger.count("driver_errors");
            if (errors.length < 20) errors.push(String((error as Error)?.message ?? error));
          }),
        );
      }
      await delay(windowEnd - Date.now());

      this.phase = "drain";
      drain.abort();
      await Promise.all([chaos?.finish(), Promise.all(journeys)]);
      await this.settle(deadline());
    } finally {
      await cleanup();
    }

    this.phase = "checks";
    const final = await this.finalState(token, monitor);
    const invariants: InvariantResult[] = [
      noReservationStuck(monitor.stuck, this.ledger, final.chargePoints),
      sessionsStopped(this.ledger, final.sessions),
      commandsAnswered(this.ledger, this.o.fleet),
      ...(this.o.fleet ? [energyMatchesMeter(this.o.fleet, final.sessions)] : []),
    ];
    this.phase = "done";
    return buildReport({
      scenario,
      scenarioFile: this.o.scenarioFile,
      seed: this.o.seed,
      apiUrl: rest.baseUrl,
      cpIds: this.o.cpIds,
      fleet: this.o.fleet,
      chaos: chaos?.stats() ?? null,
      ledger: this.ledger,
      sessions: final.sessions,
      invariants,
      api: rest.stats(),
      errors,
      startedAt: this.startedAt,
      producedBefore: this.producedBefore,
    });
  }

  private async harnessDriverToken(): Promise<string> {
    const res = await this.o.rest.call<{ token: string }>("POST", "/v1/drivers", undefined, { name: "firmware-sim harness" });
    if (res.status !== 201) throw new HarnessError(`Registering the harness driver failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token;
  }

  private async waitOnline(monitor: Monitor): Promise<void> {
    const until = Date.now() + (this.o.onlineTimeoutMs ?? 30_000);
    let unreachableSince: number | null = null;
    for (;;) {
      let problem: string;
      try {
        await monitor.poll();
        const unknown = this.o.cpIds.filter((id) => !monitor.chargePoints.has(id));
        const offline = this.o.cpIds.filter((id) => monitor.chargePoints.get(id)?.online === false);
        if (unknown.length === 0 && offline.length === 0) return;
        problem = unknown.length > 0 ? `unknown to Central: ${unknown.join(", ")}` : `offline: ${offline.join(", ")}`;
        unreachableSince = null;
      } catch (error) {
        problem = (error as Error).message;
        if (error instanceof ApiRefusedError) throw new HarnessError(problem);
        // Chargers may take a while to come online; an API that does not answer at all is a wrong --api.
        if (error instanceof ApiUnreachableError) {
          unreachableSince ??= Date.now();
          if (Date.now() - unreachableSince > 5_000) throw new HarnessError(problem);
        }
      }
      if (Date.now() > until) throw new HarnessError(`Charge points not ready after ${this.o.onlineTimeoutMs ?? 30_000} ms (${problem})`);
      await delay(250);
    }
  }

  /**
   * After the drain: wait until every reservation has ended and, with simulated chargers, every
   * command is answered and every buffered message delivered, or the deadline passes. The checks
   * then judge whatever state that left.
   */
  private async settle(until: number): Promise<void> {
    const fleet = this.o.fleet;
    const quiet = () =>
      this.ledger.live().length === 0 &&
      (!fleet ||
        [...fleet.chargers.values()].every((c) => c.connected && c.stats().buffer.size === 0 && [...c.firmware.commands.values()].every((x) => x.acked)));
    while (Date.now() < until) {
      await inBatches(this.ledger.live(), 8, (e) => refresh({ rest: this.o.rest, ledger: this.ledger }, e).then(() => {}));
      await this.monitor?.checkOverdue();
      if (quiet()) return;
      await delay(Math.min(500, Math.max(0, until - Date.now())));
    }
  }

  private async finalState(token: string, monitor: Monitor): Promise<{ sessions: SessionView[]; chargePoints: ChargePointView[] }> {
    const { rest } = this.o;
    await inBatches([...this.ledger.reservations.values()], 8, (e) => refresh({ rest, ledger: this.ledger }, e).then(() => {}));
    await monitor.checkOverdue();
    const sessions: SessionView[] = [];
    const mine = new Set(this.ledger.reservations.keys());
    const drivers = [...new Set([...this.ledger.reservations.values()].filter((r) => r.startedAt || r.status === "charging" || r.status === "completed").map((r) => r.driverToken))];
    await inBatches(drivers, 8, async (driverToken) => {
      const res = await rest.call<SessionView[]>("GET", "/v1/sessions", driverToken);
      if (res.status !== 200) throw new HarnessError(`GET /v1/sessions answered ${res.status}`);
      sessions.push(...res.body.filter((s) => mine.has(s.reservationId)));
    });
    const cps = await rest.call<ChargePointView[]>("GET", "/v1/charge-points", token);
    if (cps.status !== 200) throw new HarnessError(`GET /v1/charge-points answered ${cps.status}`);
    const scope = new Set(this.o.cpIds);
    return { sessions, chargePoints: cps.body.filter((c) => scope.has(c.cpId)) };
  }
}
