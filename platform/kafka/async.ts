/** Small promise helpers for the Kafka supervisors; kept here so the supervisors read as policy. */

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
  settled(): boolean;
}

export function deferred<T>(): Deferred<T> {
  let done = false;
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = (v) => {
      done = true;
      res(v);
    };
    reject = (e) => {
      done = true;
      rej(e);
    };
  });
  // A deferred nobody awaits must not become an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject, settled: () => done };
}

/** Rejects with the signal's reason as soon as it aborts; the underlying promise keeps running. */
export function raceAbort<T>(promise: Promise<T>, ...signals: (AbortSignal | undefined)[]): Promise<T> {
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  const aborted = live.find((s) => s.aborted);
  if (aborted) return Promise.reject(abortReason(aborted));
  if (live.length === 0) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (event: Event) => {
      cleanup();
      reject(abortReason(event.target as AbortSignal));
    };
    const cleanup = () => live.forEach((s) => s.removeEventListener("abort", onAbort));
    live.forEach((s) => s.addEventListener("abort", onAbort, { once: true }));
    promise.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e) => {
        cleanup();
        reject(e);
      },
    );
  });
}

/** Rejects after `ms` unless the promise settled; kafkajs calls can hang on a half-open socket. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("Aborted");
}
