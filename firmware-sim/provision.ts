import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { inBatches } from "./batches.ts";

export interface ChargerCredentials {
  cpId: string;
  password: string;
}

export interface ProvisionOptions {
  apiUrl: string;
  operatorToken: string;
  cpIds: string[];
  /** Where secrets are kept between runs; they are shown only once by the API. */
  credentialsFile?: string;
  /** Requests in flight; each provisioning costs Central a slow hash, so a few at a time. */
  concurrency?: number;
}

async function call(url: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
  });
}

/**
 * Provisions chargers through Central's operator API, reusing secrets saved by an earlier run.
 * A charger that exists but whose secret we no longer have gets a rotated one.
 */
export async function provisionChargers(options: ProvisionOptions): Promise<ChargerCredentials[]> {
  const saved = await load(options.credentialsFile);
  const passwords = new Map<string, string>();
  await inBatches(options.cpIds, options.concurrency ?? 4, async (cpId) => {
    const known = saved.get(cpId);
    const existing = await call(`${options.apiUrl}/v1/charge-points/${cpId}`, options.operatorToken);
    if (existing.status === 401 || existing.status === 403) {
      throw new Error(`Provisioning ${cpId} failed: the API refused the operator token (${existing.status})`);
    }
    await existing.body?.cancel();
    if (known && existing.ok) {
      passwords.set(cpId, known);
      return;
    }
    let res = await call(`${options.apiUrl}/v1/charge-points`, options.operatorToken, {
      method: "POST",
      body: JSON.stringify({ cpId }),
    });
    if (res.status === 409) {
      res = await call(`${options.apiUrl}/v1/charge-points/${cpId}/secret`, options.operatorToken, { method: "POST" });
    }
    if (!res.ok) throw new Error(`Provisioning ${cpId} failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { mqtt: { password: string } };
    saved.set(cpId, body.mqtt.password);
    passwords.set(cpId, body.mqtt.password);
  });
  await save(options.credentialsFile, saved);
  return options.cpIds.map((cpId) => ({ cpId, password: passwords.get(cpId)! }));
}

async function load(file?: string): Promise<Map<string, string>> {
  if (!file) return new Map();
  try {
    return new Map(Object.entries(JSON.parse(await readFile(file, "utf8")) as Record<string, string>));
  } catch {
    return new Map();
  }
}

async function save(file: string | undefined, data: Map<string, string>): Promise<void> {
  if (!file) return;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(Object.fromEntries(data), null, 2), { mode: 0o600 });
}
