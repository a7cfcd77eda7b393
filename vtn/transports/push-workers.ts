/**
 * The per-VEN push workers HTTP push and XMPP share: each VEN has one worker that sends its queued
 * payloads one at a time, in queue order. The payload a queue item stands for is materialized and
 * encoded once (unsigned) and kept until it leaves the queue; each attempt is the transport's
 * (`attempt`), which says what became of it:
 *
 * - `delivered`: it leaves the queue and the next one goes; `answered` acts on the VEN's answer.
 * - `refused`: the VEN (or the push-target policy) refused it: it leaves the queue, not resent
 *   unchanged, with an error log.
 * - `retry`: a network error, timeout or retryable status: tried again after truncated exponential
 *   back-off with jitter (§9.1.7); with `maxAttempts`, dropped after that many failures.
 * - `wait`: it stays queued and the worker stops until the next `wake` (an XMPP VEN that is offline).
 *
 * A VEN whose push target is down never delays the others: workers run independently. A worker
 * exists only while it has something in hand (running, waiting to retry, or holding a payload for a
 * VEN that is offline): an idle VEN costs nothing here.
 *
 * In a cluster (a store shared by several processes) one process at a time pushes to a VEN: a
 * worker runs only after claiming the VEN (`store.cluster.claimVen`), keeps the claim while it
 * waits to retry, and gives it up when the queue is empty, it waits, or the transport closes.
 */
import { decodeOadr, encodeOadr, type Payload, type VerifyResult } from '../../oadr/index.ts';
import { SECURITY_EVENT } from '../tls/binding.ts';
import { backoffDelay } from './backoff.ts';
import { createGroupCommit, type GroupCommit } from './group-commit.ts';
import type { PushConfig } from '../cli/config.ts';
import type { Logger } from '../operations/logger.ts';
import type { QueueItem, VenRegistration, VtnStore } from '../store/store.ts';

/** The payload being pushed, encoded once, unsigned (a signing transport signs each attempt afresh). */
export interface PushItem {
  readonly seq: number;
  readonly xml: string;
  readonly type: Payload['type'];
}

export type PushOutcome =
  | { readonly kind: 'delivered'; readonly answered?: () => void }
  | { readonly kind: 'refused'; readonly message: string; readonly fields?: Readonly<Record<string, unknown>> }
  | { readonly kind: 'retry'; readonly what: string; readonly err?: unknown }
  | { readonly kind: 'wait' };

export interface PushAttempt {
  readonly venId: string;
  readonly reg: VenRegistration;
  /** The VEN's address on this transport (`addressOf`). */
  readonly to: string;
  readonly item: PushItem;
  /** What to send: `item.xml`, signed afresh for this attempt when the transport signs. */
  readonly body: string;
}

export interface PushWorkersOptions {
  readonly store: VtnStore;
  readonly config: PushConfig;
  readonly log: Logger;
  /** Turns a queue item into the payload to send (builds oadrDistributeEvent). */
  readonly materialize: (item: QueueItem) => Payload;
  /** Where this transport pushes to for the registration; undefined: not a VEN of this transport (its worker stops). */
  readonly addressOf: (reg: VenRegistration | undefined) => string | undefined;
  /**
   * R514: signs `item.xml` for one attempt. Every attempt is signed afresh (new timestamp and nonce):
   * a retry is re-signed, never replayed, or the VEN's replay cache would refuse it. Absent: plain.
   */
  readonly sign?: ((xml: string) => string) | undefined;
  /** Sends one attempt; never rejects. */
  readonly attempt: (a: PushAttempt) => Promise<PushOutcome>;
  /** False while the transport cannot send at all (the VTN's own XMPP connection is down); default always. */
  readonly ready?: () => boolean;
  /** Where the queue removals and delivery records commit, grouped per turn of the event loop; default one of the workers' own. */
  readonly commits?: GroupCommit | undefined;
  /** Drop a payload after this many consecutive failures; absent: retried until delivered. */
  readonly maxAttempts?: number | undefined;
  readonly random?: () => number;
}

export interface PushWorkers {
  /** Start this VEN's worker after the current transaction commits (a no-op when it runs or waits to retry). */
  wake(venId: string): void;
  /** True when no push is running or waiting to retry for this VEN. */
  idle(venId: string): boolean;
  /** Consecutive failures of this VEN's current payload. */
  failures(venId: string): number;
  /** True once `close` was called. */
  closed(): boolean;
  close(): void;
}

interface Worker {
  running: boolean;
  /** This process holds the VEN's push claim (cluster). */
  claimed: boolean;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  cached: PushItem | undefined;
}

export function createPushWorkers(options: Readonly<PushWorkersOptions>): PushWorkers {
  const { store, config, log } = options;
  const random = options.random ?? Math.random;
  const ready = options.ready ?? (() => true);
  const workers = new Map<string, Worker>();
  let closed = false;

  const worker = (venId: string): Worker => {
    let w = workers.get(venId);
    if (w === undefined) {
      w = { running: false, claimed: false, failures: 0, timer: undefined, cached: undefined };
      workers.set(venId, w);
    }
    return w;
  };

  // The queue removals and delivery records of the pushes of one turn commit together (one fsync).
  const commits = options.commits ?? createGroupCommit({ store });

  /** Leaves the queue: the next payload goes. */
  const forget = (w: Worker): void => {
    w.cached = undefined;
    w.failures = 0;
  };
  const done = async (w: Worker, seq: number): Promise<void> => {
    await commits.run(() => store.removeQueued(seq));
    forget(w);
  };

  /** True when the worker goes on at once (the payload was dropped), false when it waits for its timer. */
  const fail = (venId: string, w: Worker, what: string, err: unknown): boolean => {
    w.failures++;
    const fields = { venId, failures: w.failures, payload: w.cached?.type, ...(err === undefined ? {} : { err }) };
    if (options.maxAttempts !== undefined && w.failures >= options.maxAttempts && w.cached !== undefined) {
      // A capped number of attempts: a target that never answers is not retried forever.
      log.error(fields, `push failed (${what}) ${w.failures} times; the payload is dropped (push.maxAttempts); check the VEN's push address`);
      store.removeQueued(w.cached.seq);
      forget(w);
      return true;
    }
    const delayMs = backoffDelay(w.failures, { initialMs: config.initialBackoffMs, maxMs: config.maxBackoffMs, jitter: config.jitter }, random);
    log.warn({ ...fields, delayMs }, `push failed (${what}); retrying after back-off`);
    w.timer = setTimeout(() => {
      w.timer = undefined;
      void run(venId);
    }, delayMs);
    w.timer.unref();
    return false;
  };

  async function run(venId: string): Promise<void> {
    const w = worker(venId);
    if (w.running || w.timer !== undefined || closed) return;
    const cluster = store.cluster;
    if (cluster !== undefined && !w.claimed) {
      // Another process pushes to this VEN now: it takes what is queued too.
      if (!cluster.claimVen(venId)) return;
      w.claimed = true;
    }
    w.running = true;
    try {
      while (!closed && ready()) {
        const reg = store.getRegistration(venId);
        const to = options.addressOf(reg);
        const queued = reg === undefined || to === undefined ? undefined : store.peek(venId);
        if (reg === undefined || to === undefined || queued === undefined) {
          w.cached = undefined;
          return;
        }
        if (w.cached?.seq !== queued.seq) {
          // Building oadrDistributeEvent records the delivery: grouped with the other VENs' of this turn.
          const payload = await commits.run(() => options.materialize(queued));
          if (closed) return;
          w.cached = { seq: queued.seq, xml: encodeOadr(payload), type: payload.type };
          w.failures = 0;
        }
        const item = w.cached;
        let body = item.xml;
        if (options.sign !== undefined) {
          try {
            body = options.sign(item.xml);
          } catch (err) {
            log.error({ venId, err, payload: item.type }, 'cannot sign the payload to push; check the VTN xmlSignature certificate and key');
            if (fail(venId, w, 'signing error', err)) continue;
            return;
          }
        }
        const outcome = await options.attempt({ venId, reg, to, item, body });
        if (closed) return;
        switch (outcome.kind) {
          case 'delivered':
            await done(w, item.seq);
            log.debug({ venId, to, payload: item.type }, 'pushed');
            outcome.answered?.();
            continue;
          case 'refused':
            await done(w, item.seq);
            log.error({ venId, to, payload: item.type, ...outcome.fields }, `${outcome.message}; the payload is dropped, not resent unchanged`);
            continue;
          case 'retry':
            if (fail(venId, w, outcome.what, outcome.err)) continue;
            return;
          case 'wait':
            return;
        }
      }
    } finally {
      w.running = false;
      if (w.timer === undefined) {
        release(venId, w);
        // Nothing in hand: a VEN whose queue is empty costs no memory here (thousands of idle VENs).
        if (w.cached === undefined && workers.get(venId) === w) workers.delete(venId);
      }
    }
  }

  function release(venId: string, w: Worker): void {
    if (!w.claimed) return;
    w.claimed = false;
    try {
      store.cluster?.releaseVen(venId);
    } catch (err) {
      // The connection is gone, and the claim with it.
      log.debug({ venId, err }, 'releasing the push claim failed');
    }
  }

  return {
    wake(venId) {
      if (closed) return;
      // Let the caller's transaction commit before the worker reads the queue.
      setImmediate(() => void run(venId));
    },
    idle(venId) {
      const w = workers.get(venId);
      return w === undefined || (!w.running && w.timer === undefined);
    },
    failures: (venId) => workers.get(venId)?.failures ?? 0,
    closed: () => closed,
    close() {
      closed = true;
      for (const [venId, w] of workers) {
        if (w.timer !== undefined) clearTimeout(w.timer);
        w.timer = undefined;
        if (!w.running) release(venId, w);
      }
      workers.clear();
    },
  };
}

export interface PushAnswer {
  readonly venId: string;
  /** The type of the payload that was pushed (for the log). */
  readonly pushed: string;
  /** The VEN's answer: an oadrPayload document, or empty. */
  readonly body: Buffer;
  readonly log: Logger;
  /** R514: the answer is acted on only when this accepts it; absent: no signatures. */
  readonly verify?: ((body: Buffer) => VerifyResult) | undefined;
  readonly maxBytes?: number | undefined;
  /** Handles the decoded answer (e.g. oadrCanceledPartyRegistration) like a request. */
  readonly onAnswer: (payload: Payload, venId: string) => void;
}

/** The VEN's answer to a push (HTTP response body, XMPP IQ result): ignored when its signature is refused or it does not decode. */
export function actOnPushAnswer(a: Readonly<PushAnswer>): void {
  if (a.body.length === 0) return;
  const v = a.verify?.(a.body);
  if (v !== undefined && !v.ok) {
    a.log.warn({ securityEvent: SECURITY_EVENT.badSignature, venId: a.venId, reason: v.reason, payload: a.pushed }, `the VEN's answer to a push is ignored, XML signature refused: ${v.message}`);
    return;
  }
  try {
    a.onAnswer(decodeOadr(a.body, a.maxBytes === undefined ? {} : { maxBytes: a.maxBytes }).payload, a.venId);
  } catch (err) {
    a.log.warn({ venId: a.venId, err }, 'the VEN answered a push with something that is not a valid OpenADR payload; ignored');
  }
}
