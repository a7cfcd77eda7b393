/**
 * Opt answers coalesced before the ledger: a VEN flipping between optIn and optOut would otherwise
 * write one ledger transaction per answer (200 alternating answers made 77 blocks). The answers of
 * one customer for one event within `windowMs` of the first go to the ledger once, the last one;
 * the VTN store keeps every answer as it came. `flush()` sends what waits (on close).
 */
import type { LedgerPort, OptRecord } from './port.ts';

export interface CoalescedLedgerPort extends LedgerPort {
  /** Sends every waiting opt answer now. */
  flush(): Promise<void>;
}

interface Pending {
  opt: OptRecord;
  timer: NodeJS.Timeout | undefined;
  readonly waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

export function coalesceOpts(port: LedgerPort, windowMs: number): CoalescedLedgerPort {
  const pending = new Map<string, Pending>();
  const send = async (key: string): Promise<void> => {
    const p = pending.get(key);
    if (p === undefined) return;
    pending.delete(key);
    if (p.timer !== undefined) clearTimeout(p.timer);
    try {
      await port.recordOpt(p.opt);
      for (const w of p.waiters) w.resolve();
    } catch (err) {
      for (const w of p.waiters) w.reject(err);
    }
  };
  const recordOpt = (opt: OptRecord): Promise<void> => {
    if (windowMs <= 0) return port.recordOpt(opt);
    const key = `${opt.eventId}\u0000${opt.customerId}`;
    return new Promise<void>((resolve, reject) => {
      const p = pending.get(key);
      if (p !== undefined) {
        p.opt = opt; // the last answer within the window wins
        p.waiters.push({ resolve, reject });
        return;
      }
      const fresh: Pending = { opt, timer: undefined, waiters: [{ resolve, reject }] };
      pending.set(key, fresh);
      fresh.timer = setTimeout(() => void send(key), windowMs);
      fresh.timer.unref();
    });
  };
  const flush = async (): Promise<void> => {
    await Promise.all([...pending.keys()].map(send));
  };
  return new Proxy(port, {
    get(target, name, receiver) {
      if (name === 'recordOpt') return recordOpt;
      if (name === 'flush') return flush;
      return Reflect.get(target, name, receiver);
    },
  }) as CoalescedLedgerPort;
}
