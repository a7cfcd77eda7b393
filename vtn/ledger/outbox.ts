/**
 * The outbox of ledger work: what the VTN acknowledged to a VEN and the ledger has not yet taken.
 * The report service writes each usage reading's work into the VTN store (`ledger_outbox`) in the
 * same transaction as the reading itself, before the VEN gets its answer, and the event and opt
 * services each opt state's work with the opt state (services/ledger-opt-work.ts); this drainer
 * sends the work to the ledger port and removes it only once the port resolved — the mapping holds
 * the reading durably and every slot it completed is on the ledger; the opt state is on the
 * ledger. A failure (ledger down, a recordEnergy refused) keeps the work and retries it with a
 * backoff capped at `maxBackoffMs`, across restarts: the rows are in the store. The ledger side is
 * idempotent by business key (the mapping keeps each reading once per meter, series and start;
 * recordEnergy writes a meter-day's slot values; recordOptState keeps one opt state per customer
 * and event), so work sent twice — a crash between the ledger's answer and the row's removal —
 * changes nothing.
 *
 * At start `reconcile()` compares the VTN store with the ledger side: usage readings of the last
 * `reconcileWindowMs` that the mapping does not hold are queued again (a store from before the
 * outbox, a lost accumulator file); then the drain also records the slots the accumulator holds
 * but the ledger lacks.
 *
 * In a cluster one process drains at a time: the one holding the ledger lease (`leased`); the
 * others leave the rows to it, and their `drain()` waits until the rows are gone.
 */
import { CRASH_POINTS, type CrashPointName } from '../services/context.ts';
import { LEDGER_WORK_TELEMETRY, ledgerReadingOf, ledgerWorkKey } from '../services/report-service.ts';
import { LEDGER_WORK_OPT } from '../services/ledger-opt-work.ts';
import type { VtnStore } from '../store/store.ts';
import { silentLogger, type Logger } from '../operations/logger.ts';
import { ledgerUnreachable } from '../errors.ts';
import type { LedgerPort, OptRecord, TelemetryPoint } from './port.ts';

export interface LedgerOutboxOptions {
  readonly store: VtnStore;
  readonly ledger: LedgerPort;
  readonly log?: Logger;
  readonly now?: () => number;
  /** Work sent to the ledger in one call. Default 500. */
  readonly batchSize?: number;
  /** First retry after a failure; doubles up to `maxBackoffMs`. Default 1 s. */
  readonly minBackoffMs?: number;
  /** Default 30 s. */
  readonly maxBackoffMs?: number;
  /**
   * Opt states wait this long (process time, from when the outbox first saw the customer's answer to
   * the event) before they are sent: the answers given meanwhile replace it, and only the last
   * reaches the ledger (a VEN flipping between optIn and optOut writes one transaction, not one per
   * answer). `stop()` sends them at once; after a restart the wait starts again. Default 0.
   */
  readonly optCoalesceMs?: number;
  /** How far back `reconcile()` looks (by interval start). Default 48 h. */
  readonly reconcileWindowMs?: number;
  readonly crashPoint?: ((name: CrashPointName) => void) | undefined;
  /** Whether this process drains (a cluster: it holds the ledger lease); default always. */
  readonly leased?: () => boolean;
  /**
   * The ledger work events owe (pending creations, cancellations: `EventsApi.catchUp`), run at the
   * start of each pass. When it fails the pass still drains the acknowledged work, and another pass
   * follows after the backoff (counted apart from the drain's failures) until it succeeds. Not run
   * by `stop()`.
   */
  readonly catchUp?: () => Promise<void>;
}

export interface LedgerOutbox {
  /** Work was queued: drain soon. */
  kick(): void;
  /** Drain until the outbox is empty or the ledger fails; resolves when that pass ends. */
  drain(): Promise<void>;
  /** Queue again what the VTN store holds and the ledger side lacks; resolves to how many readings. */
  reconcile(): Promise<number>;
  depth(): number;
  /** Stop retrying; waits for a pass in flight, then sends what waits once more (opt states without their wait). What fails stays in the store. */
  stop(): Promise<void>;
}

export function createLedgerOutbox(options: Readonly<LedgerOutboxOptions>): LedgerOutbox {
  const { store, ledger } = options;
  const log = (options.log ?? silentLogger).child({ component: 'vtn.ledger' });
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? 500;
  const minBackoffMs = options.minBackoffMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const optCoalesceMs = options.optCoalesceMs ?? 0;
  let running: Promise<void> | undefined;
  let holdTimer: NodeJS.Timeout | undefined;
  /** When the outbox first saw each waiting opt state's key (performance.now()): its coalescing wait. */
  const firstSeen = new Map<string, number>();
  let again = false;
  let stopped = false;
  let failures = 0;
  /** Passes in a row whose catch-up failed: the drain may have succeeded, the catch-up is retried with its own backoff. */
  let catchUpFailures = 0;
  let timer: NodeJS.Timeout | undefined;

  /** The next pass after `tries` failures in a row (1 s, 2 s, … up to maxBackoffMs). */
  const retryLater = (tries: number): void => {
    if (stopped || timer !== undefined) return;
    const delay = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(tries - 1, 20));
    timer = setTimeout(() => {
      timer = undefined;
      kick();
    }, delay);
    timer.unref();
  };

  /** Opt states still in their coalescing wait are held back; a timer sends them when it ends. */
  const holdUntil = (at: number): void => {
    if (stopped || holdTimer !== undefined) return;
    holdTimer = setTimeout(() => {
      holdTimer = undefined;
      kick();
    }, Math.max(0, at - performance.now()));
    holdTimer.unref();
  };

  const pass = async (final = false): Promise<void> => {
    if (options.leased?.() === false) return;
    if (!final && options.catchUp !== undefined) {
      try {
        await options.catchUp();
        catchUpFailures = 0;
      } catch (err) {
        // Logged, and the acknowledged work still goes: one event the ledger cannot take now (a call
        // that timed out) must not hold back telemetry. A pass is scheduled with the backoff even when
        // the drain below succeeds, so the catch-up does not wait for the next report.
        catchUpFailures++;
        if (!ledgerUnreachable(err)) log.error({ err, failures: catchUpFailures }, 'the ledger work of the events failed; retried with a backoff');
        else log.warn({ err, waiting: store.ledgerWorkDepth(), failures: catchUpFailures }, 'the ledger did not take the ledger work of the events (pending creations, cancellations); retried with a backoff');
      }
    }
    // Slots the accumulator holds but the ledger lacks (a failed recordEnergy) go with the first call.
    let flushed = false;
    while (final || !stopped) {
      const t = performance.now();
      const listed = store.listLedgerWork(batchSize);
      const seen = (key: string): number => firstSeen.get(key) ?? (firstSeen.set(key, t), t);
      const work = final ? listed : listed.filter((w) => w.kind !== LEDGER_WORK_OPT || seen(w.key) + optCoalesceMs <= t);
      if (work.length === 0 && flushed) {
        const held = listed.filter((w) => !work.includes(w));
        if (held.length > 0) holdUntil(Math.min(...held.map((w) => seen(w.key) + optCoalesceMs)));
        if (catchUpFailures > 0) retryLater(catchUpFailures);
        return;
      }
      const readings = work.filter((w) => w.kind === LEDGER_WORK_TELEMETRY).map((w) => w.data as TelemetryPoint);
      const opts = work.filter((w) => w.kind === LEDGER_WORK_OPT).map((w) => w.data as OptRecord);
      if (work.length > 0) options.crashPoint?.(CRASH_POINTS.outboxSending);
      try {
        // Opt states in parallel (the ledger keeps each customer's answers in order); all must succeed.
        const outcomes = await Promise.allSettled([ledger.recordTelemetry(readings), ...opts.map((o) => ledger.recordOpt(o))]);
        const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
      } catch (err) {
        if (final) throw err;
        failures++;
        if (failures === 1 || failures % 10 === 0) {
          log.warn({ err, waiting: store.ledgerWorkDepth(), failures }, 'the ledger did not take the acknowledged work (telemetry, opt states); it stays in the outbox and is retried');
        }
        retryLater(failures);
        return;
      }
      if (work.length > 0) options.crashPoint?.(CRASH_POINTS.outboxSent);
      if (failures > 0) log.info({ failures }, 'the ledger takes the outbox again');
      failures = 0;
      flushed = true;
      store.deleteLedgerWork(work.map((w) => w.seq));
      for (const w of work) firstSeen.delete(w.key);
    }
  };

  const kick = (): void => {
    if (stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    // After the current turn: the VEN's answer goes out first, and reports arriving together share a pass.
    running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => pass())
      .catch((err: unknown) => log.error({ err }, 'the outbox pass failed; retried at the next report'))
      .finally(() => {
        running = undefined;
        if (again && failures === 0) {
          again = false;
          kick();
        }
      });
  };

  return {
    kick,
    async drain() {
      kick();
      while (running !== undefined) await running;
      // Another process of the cluster drains: wait (at most maxBackoffMs) until the rows are gone.
      const until = performance.now() + maxBackoffMs;
      while (options.leased?.() === false && store.ledgerWorkDepth() > 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    },
    async reconcile() {
      const missing = ledger.missingTelemetry;
      if (missing === undefined) return 0;
      const from = now() - (options.reconcileWindowMs ?? 172_800_000);
      let queued = 0;
      for (const reg of store.listRegistrations()) {
        // One VEN at a time, the event loop served between them: the VTN answers while it reconciles.
        // Within one VEN, reading its points and queueing what lacks happen in one turn of the loop
        // (the port answers from its local store), so no correction can arrive in between and be
        // overwritten by the value read before it.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const readings: TelemetryPoint[] = [];
        for (const p of store.listTelemetryPoints(reg.venId, from)) {
          const r = ledgerReadingOf(p, reg.customerId);
          if (r !== undefined) readings.push(r);
        }
        if (readings.length === 0) continue;
        const lacking = await missing.call(ledger, readings);
        if (lacking.length === 0) continue;
        store.transaction(() => {
          for (const r of lacking) store.putLedgerWork(ledgerWorkKey(r), LEDGER_WORK_TELEMETRY, r, now());
        });
        queued += lacking.length;
      }
      if (queued > 0) log.warn({ queued }, 'readings acknowledged earlier were missing on the ledger side; queued again');
      return queued;
    },
    depth: () => store.ledgerWorkDepth(),
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      if (holdTimer !== undefined) clearTimeout(holdTimer);
      timer = undefined;
      holdTimer = undefined;
      while (running !== undefined) await running;
      await pass(true).catch((err: unknown) => log.warn({ err, waiting: store.ledgerWorkDepth() }, 'the ledger did not take the last work before the stop; it stays in the outbox for the next start'));
    },
  };
}
