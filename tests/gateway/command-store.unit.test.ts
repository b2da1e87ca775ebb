import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CommandStore, type PendingCommand } from "../../gateway/commands/command-store.ts";

const cmd = (i: number, cpId = `cp-${i % 5}`): PendingCommand => ({
  cpId,
  type: "stop",
  payload: { id: `cmd-${i}`, ts: "2026-11-28T12:00:00Z", reservationId: `res-${i}` },
  expiresAt: 1_000 + i,
});

describe("gateway command store on disk", () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cb-cmdstore-"));
    file = join(dir, "commands.jsonl");
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("keeps every add and done of a concurrent burst, in order, across a reopen", async () => {
    const store = await CommandStore.open(file);
    // One burst: 300 adds and, interleaved, dones for every third of them, all in flight at once.
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.add(cmd(i))));
    await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => store.done(`cmd-${i * 3}`)),
      ...Array.from({ length: 50 }, (_, i) => store.add(cmd(300 + i))),
      store.addCharger("cp-new"),
    ]);
    expect(store.size).toBe(250);
    // What resolved is on disk as lines in order: every done comes after its add.
    const lines = (await readFile(file, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    const firstDone = lines.findIndex((l) => l.op === "done");
    expect(lines.slice(0, firstDone).every((l) => l.op === "add")).toBe(true);
    await store.close();

    const again = await CommandStore.open(file);
    expect(again.size).toBe(250);
    expect(again.forCharger("cp-0").map((c) => c.payload.id)).not.toContain("cmd-0");
    expect(again.forCharger("cp-0").map((c) => c.payload.id)).toContain("cmd-5");
    expect(again.holds("cp-new")).toBe(true);
    expect(again.expired(1_000 + 349).length).toBe(250);
    await again.close();
  });

  it("drops a torn last line from a crash mid-append and keeps everything before it", async () => {
    const store = await CommandStore.open(file);
    await Promise.all([store.add(cmd(1)), store.add(cmd(2))]);
    await store.close();
    await appendFile(file, '{"op":"add","cmd":{"cpId":"cp-3","ty'); // the crash cut this append short
    const again = await CommandStore.open(file);
    expect(again.forCharger("cp-1").map((c) => c.payload.id)).toEqual(["cmd-1"]);
    expect(again.size).toBe(2);
    await again.add(cmd(3));
    await again.close();
    const reopened = await CommandStore.open(file);
    expect(reopened.size).toBe(3);
    await reopened.close();
  });

  it("resolves a write only once it is synced, and close waits for writes in flight", async () => {
    const store = await CommandStore.open(file);
    const writes = Array.from({ length: 20 }, (_, i) => store.add(cmd(i)));
    await store.close(); // without waiting for the adds first
    await Promise.all(writes);
    expect((await readFile(file, "utf8")).trim().split("\n")).toHaveLength(20);
  });
});
