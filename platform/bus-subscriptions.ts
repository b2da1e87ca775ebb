import { Backoff, delay, type BackoffOptions } from "./backoff.ts";
import type { Subscription } from "./event-bus.ts";
import type { Logger } from "./logger.ts";

export type SubscriptionState = "joining" | "joined";

export interface BusSubscriptions {
  /** Each subscription's state, for /healthz: "joined" once its consumer group took it in. */
  states(): Record<string, SubscriptionState>;
  /**
   * Stops retrying and closes what was opened. It does not wait for a subscribe still in flight
   * (with Kafka away that may never finish); one that completes later is closed at once, and
   * closing the bus ends the rest.
   */
  close(): Promise<void>;
}

/**
 * Opens a process's bus subscriptions in the background, each in its own retry loop, so that the
 * process serves chargers and the API while Kafka is away, and no subscription waits for another.
 * After a crash, every consumer group still lists the dead member until its session times out;
 * joining the groups one after another would add those waits up (a gateway's commands would wait
 * for its credentials group).
 */
export function startBusSubscriptions(
  wanted: Record<string, () => Promise<Subscription>>,
  log: Logger,
  retry: BackoffOptions = { initialMs: 500, maxMs: 10_000 },
): BusSubscriptions {
  const stopping = new AbortController();
  const states: Record<string, SubscriptionState> = {};
  const opened: Subscription[] = [];

  async function keepTrying(name: string, subscribe: () => Promise<Subscription>): Promise<void> {
    const backoff = new Backoff(retry);
    while (!stopping.signal.aborted) {
      try {
        const subscription = await subscribe();
        if (stopping.signal.aborted) return void (await subscription.close());
        opened.push(subscription);
        states[name] = "joined";
        log.info({ subscription: name }, "Bus subscription joined");
        return;
      } catch (error) {
        log.warn({ err: error, subscription: name }, "Bus subscription failed; retrying");
        await delay(backoff.next(), stopping.signal);
      }
    }
  }

  for (const name of Object.keys(wanted)) states[name] = "joining";
  for (const [name, subscribe] of Object.entries(wanted)) void keepTrying(name, subscribe);

  return {
    states: () => ({ ...states }),
    async close() {
      stopping.abort();
      for (const s of opened) await s.close();
    },
  };
}
