/** The real `npm start` composition (scripts/start.ts) as a child process, for the browser tests. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiClient, type ApiCall } from "./api-client.ts";
import { embeddedEnv, startProcess, type RunningProcess } from "./processes.ts";
import { expectChargersOnline } from "../e2e/charge-flow.scenario.ts";
import { simCpIds } from "../../firmware-sim/index.ts";

export interface EmbeddedSystem {
  apiUrl: string;
  /** `ws://…/ocpp/{cpId}`, as the ready line prints it. */
  ocppUrl: string;
  operatorToken: string;
  api: ApiCall;
  cpIds: string[];
  proc: RunningProcess;
  stop(): Promise<void>;
}

export async function startEmbeddedSystem(chargers: number, extra: Record<string, string> = {}): Promise<EmbeddedSystem> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-browser-"));
  const proc = startProcess(
    "scripts/start.ts",
    embeddedEnv(dataDir, { SIM_CHARGERS: String(chargers), SIM_METER_MS: "300", OPERATOR_TOKEN: "", DRIVER_RATE_PER_MINUTE: "0", ...extra }),
    "npm start",
  );
  const ready = await proc.waitForLog((l) => l.msg === "ChargeBridge is running", 90_000, "ready line");
  const apiUrl = ready.apiUrl as string;
  const api = apiClient(apiUrl);
  const operatorToken = ready.operatorToken as string;
  const cpIds = simCpIds(chargers);
  await expectChargersOnline(api, operatorToken, cpIds);
  return {
    apiUrl, ocppUrl: ready.ocppUrl as string, operatorToken, api, cpIds, proc,
    async stop() {
      await proc.kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go: docs/ when UPDATE_SCREENSHOTS=1 (to refresh the README's), else a temp dir. */
export function screenshotPath(name: string): string {
  return process.env.UPDATE_SCREENSHOTS === "1" ? join("docs", name) : join(tmpdir(), `chargebridge-${process.pid}-${name}`);
}
