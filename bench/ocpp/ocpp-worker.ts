/**
 * Idle OCPP 1.6J boxes for bench/ocpp's memory stage, in a process of its own (thousands of
 * WebSockets would otherwise share the measuring process's event loop). Each box connects,
 * sends BootNotification and then stays quiet (the gateway's heartbeat interval is minutes).
 * Driven over IPC:
 *   {cmd:"connect", url, cpIds, password, concurrency} -> {type:"connected", ms, count}
 *   {cmd:"stop"}                                       -> {type:"stopped"}
 */
import { closeBoxes, connectBoxes, type OcppBox } from "./ocpp-load.ts";
import { seedBoxes } from "./seed.ts";

let boxes: OcppBox[] = [];

process.on("message", (m: { cmd: string; url?: string; cpIds?: string[]; password?: string; concurrency?: number }) => {
  void (async () => {
    if (m.cmd === "connect") {
      const started = Date.now();
      boxes = await connectBoxes(m.url!, seedBoxes(m.cpIds!, false), m.password!, m.concurrency ?? 100);
      process.send!({ type: "connected", ms: Date.now() - started, count: boxes.length });
    } else if (m.cmd === "stop") {
      await closeBoxes(boxes);
      process.send!({ type: "stopped" });
      setTimeout(() => process.exit(0), 100);
    }
  })().catch((error: unknown) => process.send!({ type: "error", message: String((error as Error)?.stack ?? error) }));
});
