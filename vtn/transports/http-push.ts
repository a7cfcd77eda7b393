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
import { certificateFingerprint, decodeOadr, fingerprintsEqual, SignatureFailure, signOadr, verifyOadr, type NonceCache, type Payload, type SignatureForm, type VerifyResult } from '../../oadr/index.ts';
import type { PushConfig } from '../cli/config.ts';
import { pushServiceOf } from '../services/dispatch.ts';
import { OADR_CONTENT_TYPE } from './http-rules.ts';
import type { Logger } from '../operations/logger.ts';
import { SECURITY_EVENT } from '../tls/binding.ts';
import type { QueueItem, VenRegistration, VtnStore } from '../store/store.ts';
import { actOnPushAnswer, createPushWorkers, type PushAttempt, type PushOutcome } from './push-workers.ts';
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
  /** Signs an unsigned oadrPayload as `encodeOadr` writes it; called once per attempt. `form`: see signOadr (default prefixed). */
  sign(xml: string, form?: SignatureForm): string;
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
    sign: (xml, form) => signOadr(xml, { certificatePem: options.certificatePem, privateKey: options.privateKeyPem, now: options.now(), ...(form === undefined ? {} : { form }) }),
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
  const signature = options.signature;
  const aborter = new AbortController();

  const refusedTarget = (url: string, why: string): PushOutcome => ({ kind: 'refused', message: why, fields: { securityEvent: SECURITY_EVENT.pushTargetRefused, url } });

  async function attempt({ venId, reg, to, item, body }: PushAttempt): Promise<PushOutcome> {
    const url = pushUrl(to, pushServiceOf(item.type));
    const refused = options.target === undefined ? undefined : checkPushAddress(url, { ...options.target, requireCertificateHost: false });
    if (refused !== undefined) return refusedTarget(url, refused.message);
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
      if (err instanceof PushTargetRefusedError) return refusedTarget(url, err.message);
      return { kind: 'retry', what: 'network error or timeout', err };
    }
    if (res.status === 200) return { kind: 'delivered', answered: () => actOnPushAnswer({ venId, pushed: item.type, body: answer, log, verify: signature === undefined ? undefined : (b) => signature.verify(b, reg), onAnswer: options.onAnswer }) };
    if (NOT_RESENT.has(res.status)) return { kind: 'refused', message: `the VEN refused a pushed payload with HTTP ${res.status} (§9.1.5)`, fields: { status: res.status, url } };
    return { kind: 'retry', what: `HTTP ${res.status}` };
  }

  const workers = createPushWorkers({
    store,
    config,
    log,
    materialize: options.materialize,
    addressOf: (reg) => (reg === undefined || reg.httpPullModel ? undefined : reg.transportAddress),
    attempt,
    sign: signature === undefined ? undefined : (xml) => signature.sign(xml),
    maxAttempts: config.maxAttempts,
    ...(options.random === undefined ? {} : { random: options.random }),
  });

  return {
    kind: 'http-push',
    wake(reg) {
      if (!reg.httpPullModel) workers.wake(reg.venId);
    },
    idle: (venId) => workers.idle(venId),
    failures: (venId) => workers.failures(venId),
    async close() {
      workers.close();
      aborter.abort();
    },
  };
}
