/**
 * Live stream fan-out (issue 13): N SSE clients on one Central instance, one change, time until
 * all N have it; the same with 1 client as the same-run baseline; Central's memory per client.
 *
 *   node --import tsx bench/stream/run.ts [--clients 2000] [--rounds 5] [--database-url postgres://…]
 *
 * Central runs as a child process (central/main.ts, PGlite in a temp dir unless --database-url),
 * so the clients' memory is not counted in Central's. Prints figures; asserts nothing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcess } from "../../tests/support/processes.ts";
import { SseReader } from "../../tests/support/sse-client.ts";
import { waitFor } from "../../tests/support/wait.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const CLIENTS = Number(arg("clients", "2000"));
const ROUNDS = Number(arg("rounds", "5"));
const DATABASE_URL = arg("database-url", "");
const TOKEN = "bench-operator-token-0123456789";


const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(" ").at(-1)) : NaN;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "cb-bench-stream-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const central = startProcess("central/main.ts", {
    HTTP_PORT: String(port), HTTP_HOST: "127.0.0.1", DATA_DIR: dir, OPERATOR_TOKEN: TOKEN, KAFKA_BROKERS: "", DATABASE_URL,
    STREAM_MAX_CLIENTS: String(CLIENTS + 10), LOG_LEVEL: "warn",
  });
  let n = 0;
  try {
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 60_000, what: "Central ready" });
    const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    // Provisioned up front (it hashes a secret, slowly on purpose); the measured change is a revocation: one UPDATE.
    for (let i = 1; i <= ROUNDS * 2; i++) {
      const res = await fetch(`${base}/v1/charge-points`, { method: "POST", headers: auth, body: JSON.stringify({ cpId: `cp-bench-${i}` }) });
      if (res.status !== 201) throw new Error(`provision ${res.status}`);
    }
    const change = async (readers: SseReader[]): Promise<number> => {
      const cpId = `cp-bench-${++n}`;
      const t0 = performance.now();
      const res = await fetch(`${base}/v1/charge-points/${cpId}/secret`, { method: "DELETE", headers: auth });
      if (res.status !== 200) throw new Error(`revoke ${res.status}`);
      const got = (r: SseReader) => r.events.some((e) => e.event === "charge_point" && e.data.cpId === cpId && e.data.credentialsRevoked);
      await waitFor(() => readers.every(got), { timeoutMs: 60_000, intervalMs: 2, what: `all ${readers.length} got ${cpId}` });
      return performance.now() - t0;
    };
    const connect = async (count: number): Promise<SseReader[]> => {
      const readers: SseReader[] = [];
      for (let i = 0; i < count; i += 100) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(100, count - i) }, () => SseReader.open(`${base}/v1/stream`, { headers: { authorization: `Bearer ${TOKEN}` } })),
        );
        for (const b of batch) {
          if (b.status !== 200) throw new Error(`stream ${b.status}`);
          readers.push(b.reader!);
        }
      }
      await waitFor(() => readers.every((r) => r.events.some((e) => e.event === "snapshot")), { timeoutMs: 120_000, what: "snapshots" });
      return readers;
    };

    const rssIdle = await metric(base, "process_resident_memory_bytes");
    const one = await connect(1);
    const baseline: number[] = [];
    for (let r = 0; r < ROUNDS; r++) baseline.push(await change(one));
    one.forEach((r) => r.close());
    // PGlite's start-up peak inflates RSS; the heap after a warm-up is the steadier "before".
    const rssWarm = await metric(base, "process_resident_memory_bytes");
    const heapWarm = await metric(base, "nodejs_heap_size_used_bytes");

    const t0 = performance.now();
    const many = await connect(CLIENTS);
    const connectMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1_000)); // let the heap settle before reading memory (not a synchronisation)
    const rssMany = await metric(base, "process_resident_memory_bytes");
    const heapMany = await metric(base, "nodejs_heap_size_used_bytes");
    const fanout: number[] = [];
    for (let r = 0; r < ROUNDS; r++) fanout.push(await change(many));
    const clients = await metric(base, "chargebridge_central_stream_clients");
    many.forEach((r) => r.close());

    const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;
    console.log(JSON.stringify({ clients: CLIENTS, rounds: ROUNDS, db: DATABASE_URL ? "postgres" : "pglite", baseline1: baseline, fanoutN: fanout, connectMs, rssIdle, rssWarm, rssMany, heapWarm, heapMany, streamClientsGauge: clients }));
    console.log(`change → 1 client:        ${fmt(baseline)}`);
    console.log(`change → all ${CLIENTS} clients: ${fmt(fanout)}`);
    console.log(`connect ${CLIENTS} clients (snapshot received): ${(connectMs / 1000).toFixed(1)} s`);
    console.log(`Central heap used warm ${(heapWarm / 2 ** 20).toFixed(1)} MiB, with ${CLIENTS} streams ${(heapMany / 2 ** 20).toFixed(1)} MiB: ${((heapMany - heapWarm) / CLIENTS / 1024).toFixed(1)} KiB per client`);
    console.log(`Central RSS warm ${(rssWarm / 2 ** 20).toFixed(0)} MiB, with ${CLIENTS} streams ${(rssMany / 2 ** 20).toFixed(0)} MiB: ${((rssMany - rssWarm) / CLIENTS / 1024).toFixed(1)} KiB per client`);
  } finally {
    await central.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
