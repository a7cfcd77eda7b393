/**
 * Group commit: the store writes of the pushes and XMPP requests handled in the same turn of the
 * event loop go in one transaction, so a fan-out to thousands of VENs pays one commit (one fsync)
 * per turn instead of one per payload. `run(fn)` queues `fn` and resolves with its value once the
 * transaction that ran it has committed: a caller that answers or acknowledges after `await run(…)`
 * never acknowledges what a crash could still lose.
 *
 * Every `fn` keeps its own all-or-nothing: when one throws, or returns a value its `isolate` picks
 * (an answer carrying an application error, whose writes a transaction of its own might have rolled
 * back), the whole group is rolled back and each `fn` runs again on its own, as without grouping. So a
 * grouped `fn` must be safe to run twice when the first run was rolled back: the store's writes
 * are, and so are waking push workers and logging.
 */
import type { VtnStore } from '../store/store.ts';

export interface GroupCommitOptions {
  readonly store: Pick<VtnStore, 'transaction'>;
}

export interface GroupCommit {
  /**
   * Runs `fn` in the next group's transaction; resolves after that transaction committed. With
   * `isolate`, a value it picks (e.g. an answer carrying an application error) means `fn` runs again
   * in a transaction of its own.
   */
  run<T>(fn: () => T, isolate?: (value: T) => boolean): Promise<T>;
}

interface Queued {
  readonly fn: () => unknown;
  readonly isolate: ((value: unknown) => boolean) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** Thrown inside the group's transaction to roll it back when one `fn` needs a transaction of its own. */
const ISOLATE = Symbol('isolate');

export function createGroupCommit(options: Readonly<GroupCommitOptions>): GroupCommit {
  const { store } = options;
  let queued: Queued[] = [];

  /** As without grouping: `fn`'s own transactions (or single statements) commit as they go. */
  const alone = (q: Queued): void => {
    try {
      q.resolve(q.fn());
    } catch (err) {
      q.reject(err);
    }
  };

  const flush = (): void => {
    const group = queued;
    queued = [];
    if (group.length === 1) return alone(group[0] as Queued);
    let values: unknown[];
    try {
      values = store.transaction(() =>
        group.map((q) => {
          const v = q.fn();
          if (q.isolate?.(v) === true) throw ISOLATE;
          return v;
        }),
      );
    } catch {
      // Rolled back: each on its own, so one failure changes nothing of the others.
      for (const q of group) alone(q);
      return;
    }
    group.forEach((q, i) => q.resolve(values[i]));
  };

  return {
    run<T>(fn: () => T, isolate?: (value: T) => boolean): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const q: Queued = { fn, isolate: isolate as ((value: unknown) => boolean) | undefined, resolve: resolve as (value: unknown) => void, reject };
        // The first of a group schedules the commit after the I/O of this turn: what arrives in the
        // same socket reads joins it.
        if (queued.push(q) === 1) setImmediate(flush);
      });
    },
  };
}
