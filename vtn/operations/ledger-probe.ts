/**
 * The VTN's probe of its ledger: the port's `ping` at start and every `intervalMs`. `/readyz`
 * reports the last probe's result and its age (health.ts) instead of asking the ledger at each
 * request, and `oadr_vtn_ledger_up` follows the pings (metrics.ts, through the instrumented port).
 * When the ledger answers after a failed probe, `onAnswersAgain` runs (the VTN sends its pending
 * ledger work at once instead of at its backoff). The timer is unref'ed and cleared by `stop()`.
 */
import { silentLogger, type Logger } from './logger.ts';

/** One probe's outcome. */
export interface LedgerProbeResult {
  readonly ok: boolean;
  /** Why it failed. */
  readonly error?: string;
  /** When it ended (performance.now()): its age is measured on the process's monotonic clock, not on the VTN's (tests move that one). */
  readonly at: number;
}

/** What `/readyz` reads. */
export interface LedgerProbeState {
  /** The last probe's result; undefined until the first one ended. */
  last(): LedgerProbeResult | undefined;
  /** Resolves when the first probe has ended. */
  readonly first: Promise<void>;
}

export interface LedgerProbe extends LedgerProbeState {
  /** Asks the ledger now; resolves when this probe has ended (its result is then `last()`, unless a later one ended first). */
  probe(): Promise<void>;
  stop(): void;
}

export interface LedgerProbeOptions {
  /** The ledger port's `ping` (through the instrumented port, so `oadr_vtn_ledger_up` follows it). */
  readonly ping: () => Promise<void>;
  readonly intervalMs: number;
  readonly log?: Logger;
  readonly onAnswersAgain?: () => void;
}

export function startLedgerProbe(options: Readonly<LedgerProbeOptions>): LedgerProbe {
  const log = options.log ?? silentLogger;
  let last: LedgerProbeResult | undefined;
  let started = 0;
  /** The newest probe whose result is `last`: an older one ending later does not replace it. */
  let shown = 0;
  let stopped = false;
  let firstEnded: () => void = () => {};
  const first = new Promise<void>((resolve) => (firstEnded = resolve));

  const probe = async (): Promise<void> => {
    const n = ++started;
    let result: LedgerProbeResult;
    try {
      await options.ping();
      result = { ok: true, at: performance.now() };
    } catch (err) {
      result = { ok: false, error: (err as Error).message, at: performance.now() };
      if (last?.ok !== false && n > shown) log.warn({ err }, 'the ledger does not answer; VENs are still served, ledger work waits');
    }
    firstEnded();
    if (n < shown) return;
    const before = last;
    shown = n;
    last = result;
    if (result.ok && before?.ok === false && !stopped) {
      log.info({}, 'the ledger answers again; pending ledger work goes now');
      options.onAnswersAgain?.();
    }
  };

  void probe();
  const timer = setInterval(() => void probe(), options.intervalMs);
  timer.unref();
  return {
    last: () => last,
    first,
    probe,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
