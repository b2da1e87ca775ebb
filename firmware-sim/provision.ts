import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

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
  const result: ChargerCredentials[] = [];
  for (const cpId of options.cpIds) {
    const known = saved.get(cpId);
    const existing = await call(`${options.apiUrl}/v1/charge-points/${cpId}`, options.operatorToken);
    if (known && existing.ok) {
      result.push({ cpId, password: known });
      continue;
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
    result.push({ cpId, password: body.mqtt.password });
  }
  await save(options.credentialsFile, saved);
  return result;
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
