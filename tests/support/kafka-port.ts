import { execFileSync } from "node:child_process";

/** Below Linux's ephemeral range (32768–60999), so no outgoing connection takes it while the broker is down. */
const LOW = 20_000;
const HIGH = 32_000;

// Binds both ports on 127.0.0.1 and exits 0 if it could: run in a child so the check is synchronous.
const PROBE = `
const net = require("node:net");
const ports = process.argv.slice(1).map(Number);
let left = ports.length, ok = true;
const servers = ports.map((port) => {
  const s = net.createServer();
  s.once("error", () => { ok = false; done(); });
  s.listen(port, "127.0.0.1", done);
  return s;
});
function done() { if (--left === 0) { servers.forEach((s) => s.close()); process.exit(ok ? 0 : 1); } }
`;

/**
 * A port for a test's own Kafka broker whose successor (the KRaft controller, scripts/kafka.sh)
 * is free too, picked at random and checked now. The port stays fixed for the broker's life, so a
 * killed broker restarts where its clients expect it; deriving it from the pid instead let two
 * test files (or two runs on one machine) pick the same pair now and then.
 */
export function pickKafkaPort(): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + 2 * Math.floor(Math.random() * ((HIGH - LOW) / 2));
    try {
      execFileSync(process.execPath, ["-e", PROBE, String(port), String(port + 1)], { stdio: "ignore", timeout: 10_000 });
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error(`No two adjacent free ports between ${LOW} and ${HIGH} on 127.0.0.1`);
}
