/**
 * HTTP push (R38): the VTN POSTs each queued payload to the VEN's `oadrTransportAddress` +
 * `OpenADR2/Simple/2.0b/<service>` (§9.1.2), one at a time per VEN, in queue order. A payload
 * leaves the queue only when the VEN answered 200; network errors, timeouts and 5xx are retried
 * with truncated exponential back-off and jitter (§9.1.7); 4xx answers other than 408/429 are not
 * resent unchanged (§9.1.5) and the payload is dropped with an error log. Each VEN has its own
 * worker, so a push target that is down never delays the others.
 *
 * High security (R514, §10.6): with a `signature`, every attempt is signed afresh (new timestamp and
 * nonce — a retry after back-off is re-signed, never replayed, or the VEN's replay cache would refuse
 * it), and the VEN's answer in the response body is acted on only when its signature verifies and
 * the signer is the certificate bound to that VEN at registration.
 */
import { certificateFingerprint, decodeOadr, encodeOadr, fingerprintsEqual, SignatureFailure, signOadr, verifyOadr, type NonceCache, type Payload, type VerifyResult } from '../../oadr/index.ts';
import { backoffDelay } from './backoff.ts';
import type { PushConfig } from '../cli/config.ts';
import { pushServiceOf } from '../services/dispatch.ts';
import { OADR_CONTENT_TYPE } from './http-rules.ts';
import type { Logger } from '../operations/logger.ts';
import { SECURITY_EVENT } from '../tls/binding.ts';
import type { QueueItem, VenRegistration, VtnStore } from '../store/store.ts';
import type { VenTransport } from './ven-transport.ts';
import { checkPushAddress, PushTargetRefusedError, type PushTargetPolicy } from './push-target.ts';

export interface HttpPushOptions {
  readonly store: VtnStore;
  readonly config: PushConfig;
  readonly log: Logger;
  /** Turns a queue item into the payload to send (builds oadrDistributeEvent). */
  readonly materialize: (item: QueueItem) => Payload;
  /** The VEN's answer in the HTTP response body, if any (e.g. oadrCanceledPartyRegistration). */
  readonly onAnswer: (payload: Payload, venId: string) => void;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
  /** R514: sign every attempt and verify the VEN's answers (createPushSignature); absent: plain payloads. */
  readonly signature?: PushSignature;
  /**
   * Where pushes may go (push-target.ts): the address is checked before each attempt; its resolved
   * addresses are checked by the `fetch`'s connections (createPushFetch with guardedLookup), whose
   * refusal (PushTargetRefusedError) drops the payload. Absent: no check.
   */
  readonly target?: PushTargetPolicy;
}

/** How the push transport signs what it sends and checks what push VENs answer (R514). */
export interface PushSignature {
  /** Signs an unsigned oadrPayload as `encodeOadr` writes it; called once per attempt. */
  sign(xml: string): string;
  /** Checks the body a push VEN answered with; `reg` is the VEN that was pushed to. */
  verify(body: Uint8Array, reg: VenRegistration): VerifyResult;
}

export interface PushSignatureOptions {
  /** The VTN's signing certificate and key (PEM): the same pair that signs its HTTP answers. */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** Replay cache for the VENs' answers (may be the one the HTTP server uses). */
  readonly nonces: NonceCache;
  /** Timestamp window, default 5 minutes. */
  readonly windowMs?: number | undefined;
  /** Clock for timestamps, ms since the epoch. */
  readonly now: () => number;
}

/**
 * Signs with the VTN's credential; an answer must be signed by the certificate whose fingerprint
 * is bound to the VEN (R517). A VEN with no bound fingerprint (plain HTTP, loopback tests only)
 * may answer signed by any certificate whose signature verifies.
 */
export function createPushSignature(options: Readonly<PushSignatureOptions>): PushSignature {
  return {
    sign: (xml) => signOadr(xml, { certificatePem: options.certificatePem, privateKey: options.privateKeyPem, now: options.now() }),
    verify(body, reg) {
      const v = verifyOadr(body, {
        now: options.now(),
        seenNonce: (n, exp, at) => options.nonces.seenNonce(n, exp, at),
        ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
      });
      if (!v.ok || reg.fingerprint === undefined) return v;
      const signer = certificateFingerprint(v.certificatePem);
      if (fingerprintsEqual(signer, reg.fingerprint)) return v;
      return { ok: false, reason: SignatureFailure.CERT_MISMATCH, message: `the answer is signed by certificate ${signer}, but venID ${reg.venId} is bound to ${reg.fingerprint}` };
    },
  };
}

interface Worker {
  running: boolean;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  /** The current payload, encoded once, unsigned: each attempt signs it afresh. */
  cached: { readonly seq: number; readonly xml: string; readonly url: string; readonly type: string } | undefined;
}

/** Join the VEN's base address and the service path with exactly one `/` (rules §2.1 CHOICE). */
export function pushUrl(base: string, service: string): string {
  return `${base.replace(/\/+$/, '')}/OpenADR2/Simple/2.0b/${service}`;
}

const NOT_RESENT = new Set([400, 401, 403, 404, 405, 406, 410, 413, 415, 422, 501]);

export interface HttpPushTransport extends VenTransport {
  /** True when no push is running or waiting to retry for this VEN. */
  idle(venId: string): boolean;
  /** Consecutive failures of this VEN's current payload. */
  failures(venId: string): number;
}

export function createHttpPushTransport(options: Readonly<HttpPushOptions>): HttpPushTransport {
  const { store, config, log } = options;
  const doFetch = options.fetch ?? fetch;
  const random = options.random ?? Math.random;
  const signature = options.signature;
  const workers = new Map<string, Worker>();
  const aborter = new AbortController();
  let closed = false;

  const worker = (venId: string): Worker => {
    let w = workers.get(venId);
    if (w === undefined) {
      w = { running: false, failures: 0, timer: undefined, cached: undefined };
      workers.set(venId, w);
    }
    return w;
  };

  const fail = (venId: string, w: Worker, what: string, err?: unknown): void => {
    w.failures++;
    if (config.maxAttempts !== undefined && w.failures >= config.maxAttempts && w.cached !== undefined) {
      // A capped number of attempts: a target that never answers is not retried forever.
      store.removeQueued(w.cached.seq);
      log.error({ venId, failures: w.failures, payload: w.cached.type, ...(err === undefined ? {} : { err }) }, `push failed (${what}) ${w.failures} times; the payload is dropped (push.maxAttempts); check the VEN's push address`);
      w.cached = undefined;
      w.failures = 0;
      setImmediate(() => void run(venId));
      return;
    }
    const delayMs = backoffDelay(w.failures, { initialMs: config.initialBackoffMs, maxMs: config.maxBackoffMs, jitter: config.jitter }, random);
    log.warn({ venId, failures: w.failures, delayMs, payload: w.cached?.type, ...(err === undefined ? {} : { err }) }, `push failed (${what}); retrying after back-off`);
    w.timer = setTimeout(() => {
      w.timer = undefined;
      void run(venId);
    }, delayMs);
    w.timer.unref();
  };

  const dropRefused = (venId: string, w: Worker, seq: number, url: string, why: string): void => {
    store.removeQueued(seq);
    log.error({ securityEvent: SECURITY_EVENT.pushTargetRefused, venId, payload: w.cached?.type, url }, `${why}; the payload is dropped`);
    w.cached = undefined;
  };

  async function run(venId: string): Promise<void> {
    const w = worker(venId);
    if (w.running || w.timer !== undefined || closed) return;
    w.running = true;
    try {
      while (!closed) {
        const reg: VenRegistration | undefined = store.getRegistration(venId);
        if (reg === undefined || reg.httpPullModel || reg.transportAddress === undefined) {
          w.cached = undefined;
          return;
        }
        const item = store.peek(venId);
        if (item === undefined) {
          w.cached = undefined;
          return;
        }
        if (w.cached?.seq !== item.seq) {
          const payload = options.materialize(item);
          w.cached = { seq: item.seq, xml: encodeOadr(payload), url: pushUrl(reg.transportAddress, pushServiceOf(payload.type)), type: payload.type };
          w.failures = 0;
        }
        const { url, xml } = w.cached;
        const refused = options.target === undefined ? undefined : checkPushAddress(url, { ...options.target, requireCertificateHost: false });
        if (refused !== undefined) {
          dropRefused(venId, w, item.seq, url, refused.message);
          continue;
        }
        let body: string;
        try {
          body = signature === undefined ? xml : signature.sign(xml);
        } catch (err) {
          log.error({ venId, err, payload: w.cached.type }, 'cannot sign the payload to push; check the VTN xmlSignature certificate and key');
          fail(venId, w, 'signing error', err);
          return;
        }
        let res: Response;
        let answer: Buffer;
        try {
          res = await doFetch(url, {
            method: 'POST',
            headers: { 'content-type': OADR_CONTENT_TYPE },
            body,
            signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(config.timeoutMs)]),
          });
          answer = Buffer.from(await res.arrayBuffer());
        } catch (err) {
          if (closed) return;
          if (err instanceof PushTargetRefusedError) {
            dropRefused(venId, w, item.seq, url, err.message);
            continue;
          }
          fail(venId, w, 'network error or timeout', err);
          return;
        }
        if (res.status === 200) {
          store.removeQueued(item.seq);
          const pushed = w.cached.type;
          log.debug({ venId, payload: pushed, url }, 'pushed');
          w.cached = undefined;
          w.failures = 0;
          if (answer.length > 0 && signature !== undefined) {
            const v = signature.verify(answer, reg);
            if (!v.ok) {
              log.warn({ securityEvent: SECURITY_EVENT.badSignature, venId, reason: v.reason, payload: pushed }, `the VEN's answer to a push is ignored, XML signature refused: ${v.message}`);
              continue;
            }
          }
          if (answer.length > 0) {
            try {
              options.onAnswer(decodeOadr(answer).payload, venId);
            } catch (err) {
              log.warn({ venId, err }, 'the VEN answered a push with a body that is not a valid OpenADR payload; ignored');
            }
          }
          continue;
        }
        if (NOT_RESENT.has(res.status)) {
          store.removeQueued(item.seq);
          log.error({ venId, status: res.status, payload: w.cached.type, url }, 'the VEN refused a pushed payload; it is dropped, not resent unchanged (§9.1.5)');
          w.cached = undefined;
          continue;
        }
        fail(venId, w, `HTTP ${res.status}`);
        return;
      }
    } finally {
      w.running = false;
    }
  }

  return {
    kind: 'http-push',
    wake(reg) {
      if (closed || reg.httpPullModel) return;
      // Let the caller's transaction commit before the worker reads the queue.
      setImmediate(() => void run(reg.venId));
    },
    idle(venId) {
      const w = workers.get(venId);
      return w === undefined || (!w.running && w.timer === undefined);
    },
    failures: (venId) => workers.get(venId)?.failures ?? 0,
    async close() {
      closed = true;
      aborter.abort();
      for (const w of workers.values()) if (w.timer !== undefined) clearTimeout(w.timer);
      workers.clear();
    },
  };
}
