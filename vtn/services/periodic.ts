/**
 * A pass the VTN runs on a timer (the re-sends of cancellations and of report requests): `tick()`
 * runs it now (tests call it instead of waiting), a failing pass is logged and the next one runs as
 * usual, the timer is unref'ed and `stop()` clears it. The clock is the context's.
 *
 * In a cluster (a store shared by several processes) a pass runs only in the process that holds
 * the duty's lease (`what` names it): once in the cluster, and in another process once the holder
 * dies or loses its database connection.
 */
import type { VtnContext } from './context.ts';

export interface Periodic {
  /** One pass now; returns what the pass counts (items re-sent). */
  tick(): number;
  stop(): void;
}

export function startPeriodic(ctx: VtnContext, o: { readonly intervalMs: number; readonly what: string; readonly pass: (now: number) => number }): Periodic {
  let stopped = false;
  const mine = (): boolean => ctx.store.cluster === undefined || ctx.store.cluster.lease(o.what);
  const tick = (): number => (stopped || !mine() ? 0 : o.pass(ctx.now()));
  const timer = setInterval(() => {
    try {
      tick();
    } catch (err) {
      ctx.log.error({ err }, `${o.what} pass failed; retried at the next pass`);
    }
  }, o.intervalMs);
  timer.unref();
  return {
    tick,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
