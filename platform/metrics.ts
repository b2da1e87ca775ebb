import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export { Counter, Gauge, Histogram, Registry };

/** One registry per component, so the embedded composition can serve each component's own /metrics. */
export function createRegistry(component: string, withDefaults = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  if (withDefaults) collectDefaultMetrics({ register: registry });
  return registry;
}
