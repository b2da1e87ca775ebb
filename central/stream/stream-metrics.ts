import { Counter, Gauge, type Registry } from "../../platform/metrics.ts";

export type StreamMetrics = ReturnType<typeof createStreamMetrics>;

export function createStreamMetrics(registry: Registry) {
  const registers = [registry];
  return {
    clients: new Gauge({ name: "chargebridge_central_stream_clients", help: "Open /v1/stream connections on this instance", registers }),
    events: new Counter({ name: "chargebridge_central_stream_changes_total", help: "Changes read from the change log and fanned out", registers }),
    disconnected: new Counter({
      name: "chargebridge_central_stream_disconnects_total",
      help: "Streams this instance ended, by reason (slow_client: buffer over STREAM_CLIENT_BUFFER_BYTES)",
      labelNames: ["reason"],
      registers,
    }),
    gapsSkipped: new Counter({
      name: "chargebridge_central_stream_gaps_skipped_total",
      help: "Change-log ids given up on after the gap wait (rolled-back or very long transactions)",
      registers,
    }),
  };
}
