/**
 * Open charger connections over every listener, MQTT and OCPP together: MQTT_MAX_CONNECTIONS
 * bounds what a gateway holds (sockets, buffers, sessions), whichever protocol a charger speaks.
 */
export interface ConnectionBudget {
  /** Takes a place; false (nothing taken) when the cap is reached. */
  take(): boolean;
  release(): void;
  readonly open: number;
}

/** `max` 0: no limit. */
export function connectionBudget(max: number): ConnectionBudget {
  let open = 0;
  return {
    take() {
      if (max && open >= max) return false;
      open += 1;
      return true;
    },
    release() {
      open = Math.max(0, open - 1);
    },
    get open() {
      return open;
    },
  };
}
