import { Counter, Gauge, Histogram, type Registry } from "../platform/metrics.ts";

export type CentralMetrics = ReturnType<typeof createCentralMetrics>;

export function createCentralMetrics(registry: Registry) {
  const registers = [registry];
  return {
    eventsApplied: new Counter({
      name: "chargebridge_central_events_applied_total",
      help: "Upstream events applied, by type",
      labelNames: ["type"],
      registers,
    }),
    eventsDuplicate: new Counter({
      name: "chargebridge_central_events_duplicate_total",
      help: "Upstream events ignored because their message id was already applied",
      registers,
    }),
    eventsDeadLettered: new Counter({
      name: "chargebridge_central_events_dead_lettered_total",
      help: "Bus records Central could not decode, sent to the dead-letter topic",
      registers,
    }),
    reservations: new Counter({
      name: "chargebridge_central_reservations_total",
      help: "Reservation outcomes",
      labelNames: ["outcome"],
      registers,
    }),
    expired: new Counter({
      name: "chargebridge_central_reservations_expired_total",
      help: "Reservations rolled back because they were not started in time",
      registers,
    }),
    lateStarts: new Counter({
      name: "chargebridge_central_late_starts_total",
      help: "charging_started events honoured by event time after their reservation had been rolled back",
      registers,
    }),
    rejectedStarts: new Counter({
      name: "chargebridge_central_rejected_starts_total",
      help: "charging_started events for unknown, cancelled or expired reservations, answered with stop",
      registers,
    }),
    conflicts: new Counter({
      name: "chargebridge_central_reconciliation_conflicts_total",
      help: "Differences between Central's view and a charger's reported status, resolved in the charger's favour",
      labelNames: ["kind"],
      registers,
    }),
    commandsPublished: new Counter({
      name: "chargebridge_central_commands_published_total",
      help: "Commands handed to the bus",
      labelNames: ["type"],
      registers,
    }),
    outboxPending: new Gauge({
      name: "chargebridge_central_outbox_pending",
      help: "Commands committed but not yet on the bus",
      registers,
    }),
    outboxLeasesLost: new Counter({
      name: "chargebridge_central_outbox_leases_lost_total",
      help: "Outbox publishes abandoned because another instance took over their lease",
      registers,
    }),
    rowsPruned: new Counter({
      name: "chargebridge_central_rows_pruned_total",
      help: "Rows deleted by the retention prune, by table",
      labelNames: ["table"],
      registers,
    }),
    eventBatchRecords: new Histogram({
      name: "chargebridge_central_event_batch_records",
      help: "Records per batch transaction of the event consumer (CENTRAL_BATCH_MAX_RECORDS at most)",
      buckets: [1, 5, 25, 100, 250, 500, 1000, 5000],
      registers,
    }),
    eventBatchFallbacks: new Counter({
      name: "chargebridge_central_event_batch_fallbacks_total",
      help: "Batches the database refused deterministically, applied again one record at a time",
      registers,
    }),
    httpDuration: new Histogram({
      name: "chargebridge_central_http_request_duration_seconds",
      help: "REST request duration",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}
