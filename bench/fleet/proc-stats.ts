import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second for /proc/<pid>/stat's utime and stime (USER_HZ; 100 on Linux x86). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  at: number;
  /** utime + stime, in seconds of CPU. */
  cpuSeconds: number;
  rssBytes: number;
}

/** One reading of a process's CPU time (/proc/<pid>/stat) and resident memory (/proc/<pid>/status). */
export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; fields after its closing paren are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
  return { at: Date.now(), cpuSeconds: (utime + stime) / CLK_TCK, rssBytes: rssKb * 1024 };
}

/** CPU use between two samples as a share of one core (100 = one core busy). */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  return ((b.cpuSeconds - a.cpuSeconds) / Math.max(0.001, (b.at - a.at) / 1000)) * 100;
}

/** Samples a process every `everyMs` until stopped: peak and mean RSS over a window. */
export function watchRss(pid: number, everyMs = 1_000) {
  const values: number[] = [];
  const take = () => {
    try {
      values.push(sampleProc(pid).rssBytes);
    } catch {
      // the process went away; the caller will notice
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop(): { peakBytes: number; meanBytes: number } {
      clearInterval(timer);
      take();
      return { peakBytes: Math.max(...values), meanBytes: values.reduce((a, b) => a + b, 0) / values.length };
    },
  };
}
