import { readFileSync } from "node:fs";

/** The queue lock file's content: `<pid> <start time>`; files written before issue 10 hold only the pid. */
export interface LockOwner {
  pid: number;
  /** /proc/<pid>/stat field 22 (starttime, clock ticks since boot); unset without /proc. */
  startTime?: string;
}

export function parseOwner(text: string): LockOwner | undefined {
  const [pidText, startTime] = text.trim().split(/\s+/);
  const pid = Number.parseInt(pidText ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return startTime && /^\d+$/.test(startTime) ? { pid, startTime } : { pid };
}

export function describeOwner(owner: LockOwner | undefined): string {
  return owner ? `process ${owner.pid}` : "another process";
}

interface ProcStat {
  state: string;
  startTime: string;
}

/**
 * proc(5): `pid (comm) state ppid … starttime …`. comm may hold spaces and parentheses, so the
 * fields are counted from the last ')': state is field 3, starttime field 22.
 * undefined: no such process. null: no /proc to ask (not Linux).
 */
function procStat(pid: number): ProcStat | undefined | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return existsProc() ? undefined : null;
    return null;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", startTime: fields[19] ?? "" };
}

let procMounted: boolean | undefined;
function existsProc(): boolean {
  if (procMounted === undefined) {
    try {
      readFileSync(`/proc/${process.pid}/stat`);
      procMounted = true;
    } catch {
      procMounted = false;
    }
  }
  return procMounted;
}

/** This process's start time as recorded in the lock file; undefined without /proc. */
export function ownStartTime(): string | undefined {
  return procStat(process.pid)?.startTime || undefined;
}

/**
 * Whether the recorded owner still runs. A zombie (Z) or dying (X) process holds nothing any
 * more; a running pid with another start time is a new process that reused the pid.
 */
export function isOwnerAlive(owner: LockOwner): boolean {
  const stat = procStat(owner.pid);
  if (stat === undefined) return false;
  if (stat !== null) {
    if (stat.state === "Z" || stat.state === "X" || stat.state === "x") return false;
    return owner.startTime === undefined || owner.startTime === stat.startTime;
  }
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
