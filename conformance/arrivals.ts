/**
 * Waiting for something a peer sends: the suite's push inbox and its simulated VTN both keep what
 * arrived in a list and call `arrived()`; a case waits until `find` sees what it wants, the time-out
 * passes (PeerMisbehaved with the message given) or the case is abandoned.
 */
import { PeerMisbehaved } from './runner.ts';

export interface Arrivals {
  /** Call after each arrival. */
  arrived(): void;
  wait<T>(find: () => T | undefined, timeoutMs: number, signal: AbortSignal, timeoutMessage: string): Promise<T>;
}

export function createArrivals(): Arrivals {
  const waiters = new Set<() => void>();
  return {
    arrived: () => {
      for (const w of waiters) w();
    },
    wait(find, timeoutMs, signal, timeoutMessage) {
      return new Promise((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(look);
          signal.removeEventListener('abort', onAbort);
        };
        const look = (): void => {
          const hit = find();
          if (hit === undefined) return;
          finish();
          resolve(hit);
        };
        const onAbort = (): void => {
          finish();
          reject(new Error('the case was abandoned'));
        };
        waiters.add(look);
        signal.addEventListener('abort', onAbort, { once: true });
        timer = setTimeout(() => {
          finish();
          reject(new PeerMisbehaved(timeoutMessage));
        }, timeoutMs);
        timer.unref();
        look();
      });
    },
  };
}
