/**
 * Where a process's CPU went, from a V8 CPU profile (inspector.ts's `profiled`, or a
 * .cpuprofile file): self time grouped by owner (an npm package, a file of ours, Node's
 * internals, GC), as % of the non-idle samples. bench/ocpp runs it on the gateway's profile of
 * each path's window (`--profile DIR`) to say what bounds each path.
 *
 *   node --import tsx bench/ocpp/profile-summary.ts FILE.cpuprofile [--top 15]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/** The owner of a frame: `pkg` for node_modules/pkg, `ours: dir/file` for the repo, `node:*`, or V8's own. */
function owner(url: string, fn: string, repo: string): string {
  // Builtins (JSON, crypto, the socket writes' C++ side) have no url: name them, they are the bulk.
  if (!url) return fn.startsWith("(") ? fn : `native: ${fn || "(anonymous)"}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith("node:")) return "node internals";
  const path = url.replace(/^file:\/\//, "");
  return path.startsWith(repo) ? `ours: ${path.slice(repo.length)}` : path;
}

export function summarise(profile: unknown, label: string, top = 15): string {
  const p = profile as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const repo = new URL("../../", import.meta.url).pathname;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const us = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const n = byId.get(id)!;
    const key = owner(n.callFrame.url, n.callFrame.functionName, repo);
    us.set(key, (us.get(key) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  us.delete("(idle)");
  const total = [...us.values()].reduce((a, b) => a + b, 0);
  const rows = [...us].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [`${label}: busy CPU ${(total / 1e6).toFixed(1)} s, self time by owner`, ...rows.map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`)].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const top = process.argv.indexOf("--top");
  const file = process.argv[2]!;
  console.log(summarise(JSON.parse(readFileSync(file, "utf8")), file, top > 0 ? Number(process.argv[top + 1]) : 15));
}
