/**
 * The VEN's client session with one VTN: registration (rules digest 3.4), HTTP pull with oadrPoll
 * at the VTN's requested frequency, draining the queue until oadrResponse (R500), retries with
 * the §9.1.7 back-off, and the push side (payloads the VTN POSTs). The protocol content (events,
 * reports) is the handler's; the session only moves payloads and keeps the registration.
 */
import { ResponseCode, type Payload } from '../oadr/index.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { isNoService, VenError, VenErrorCode, vtnFailureLog } from './errors.ts';
import type { VtnTransport } from './http-transport.ts';
import {
  createRegistrationPayload,
  INITIAL_REGISTRATION,
  RegistrationStatus,
  stepRegistration,
  type Registration,
  type RegistrationEvent,
  type RegistrationState,
  type RegistrationStatusValue,
} from './registration.ts';

/** Where a payload from the VTN came from. */
export const PayloadOrigin = { POLL: 'poll', PUSH: 'push', ANSWER: 'answer' } as const;
export type PayloadOriginValue = (typeof PayloadOrigin)[keyof typeof PayloadOrigin];

export interface HandlerResult {
  /** The answer to the payload: the HTTP response body when pushed, its own POST when polled (R500). */
  readonly reply?: Payload | undefined;
  /** Requests to send afterwards (e.g. oadrCreatedEvent after a pushed oadrDistributeEvent, §8.1). */
  readonly followUps?: readonly Payload[] | undefined;
}

export interface SessionHandler {
  /** After registering: what to send first, in order (R309: metadata; R405: oadrRequestEvent). `fresh` is false on re-registration. */
  onRegistered(registration: Registration, fresh: boolean): Payload[];
  /** A payload from the VTN that is not about registration. */
  onPayload(payload: Payload, origin: PayloadOriginValue, registration: Registration): Promise<HandlerResult>;
  /** R407: the registration is gone; delete everything about the VTN. */
  onUnregistered(): void;
}

/** pino-compatible subset. */
export interface VenLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const SILENT: VenLogger = { info() {}, warn() {}, debug() {} };

export interface VenSessionOptions {
  readonly transport: VtnTransport;
  readonly venName: string;
  readonly handler: SessionHandler;
  /** Push mode: the base URL the VTN POSTs to, or the VEN's full JID over XMPP (`oadrTransportAddress`). Absent = HTTP pull. */
  readonly transportAddress?: string | undefined;
  /** `xmpp` when the transport is XMPP (R507: push, no oadrPoll); default `simpleHttp`. */
  readonly transportName?: 'simpleHttp' | 'xmpp' | undefined;
  /** Poll interval, ms; never faster than the VTN's oadrRequestedOadrPollFreq (default: the VTN's, else 10 s). */
  readonly pollIntervalMs?: number | undefined;
  /** Random extra wait added to each poll interval, ms (§9.1.8; default 0). */
  readonly pollJitterMs?: number | undefined;
  readonly backoff?: Readonly<BackoffOptions> | undefined;
  /** Attempts per request on transport failures before giving up (default 5). */
  readonly attempts?: number | undefined;
  /** Uniform in [0, 1) (default Math.random). */
  readonly random?: (() => number) | undefined;
  /** A stored registration to resume with (CHOICE: re-register with the stored IDs). */
  readonly registration?: Registration | undefined;
  /** Called with every change of the registration (undefined = cleared), to persist it. */
  readonly onRegistration?: ((registration: Registration | undefined) => void) | undefined;
  /** Called whenever the session becomes operational (after registration and sync, or re-registration). */
  readonly onOperational?: ((registration: Registration) => void) | undefined;
  /** Told the outcome of every request to the VTN: undefined when it was answered, else the error (for the VEN's status). */
  readonly onExchange?: ((error: unknown) => void) | undefined;
  /** Called once when the session stops by itself: the VTN answered 404 (no OpenADR service at the URL), which no retry changes. */
  readonly onGiveUp?: ((error: VenError) => void) | undefined;
  readonly log?: VenLogger | undefined;
}

export interface VenSession {
  start(): void;
  stop(): Promise<void>;
  status(): RegistrationStatusValue;
  registration(): Registration | undefined;
  /** Resolves once the VEN is registered and synced. */
  whenOperational(): Promise<Registration>;
  /**
   * Sends a request and hands its answer to the handler; resolves with the answer. An unreachable VTN
   * is retried up to `attempts` times (default: the session's) with the back-off; a caller with a
   * back-off of its own (the outbox) passes `attempts: 1`.
   */
  send(payload: Payload, options?: { readonly attempts?: number }): Promise<Payload>;
  /** For the push server: the HTTP answer to a payload the VTN POSTed. */
  handlePush(payload: Payload): Promise<Payload | undefined>;
  /** Wakes the poll loop at once. */
  pollNow(): void;
  /** Cancels the registration with the VTN (R407) and stops. */
  cancelRegistration(): Promise<void>;
}

const DEFAULT_POLL_MS = 10_000;
const MAX_DRAIN = 100;
let requestCounter = 0;
const newRequestId = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(++requestCounter).toString(36)}`;

export function createVenSession(options: Readonly<VenSessionOptions>): VenSession {
  const log = options.log ?? SILENT;
  const random = options.random ?? Math.random;
  const attempts = options.attempts ?? 5;
  const handler = options.handler;
  let state: RegistrationState = options.registration === undefined ? INITIAL_REGISTRATION : { ...INITIAL_REGISTRATION, registration: options.registration };
  let stopped = true;
  let loop: Promise<void> | undefined;
  let waiter: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | undefined;
  let operational: { promise: Promise<Registration>; resolve: (r: Registration) => void; resolved: boolean } | undefined;
  let pending = false; // a wake-up that arrived while not sleeping

  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      if (pending || stopped) {
        pending = false;
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        waiter = undefined;
        resolve();
      }, ms);
      timer.unref();
      waiter = { timer, resolve };
    });
  const wake = (): void => {
    if (waiter === undefined) {
      pending = true;
      return;
    }
    clearTimeout(waiter.timer);
    const w = waiter;
    waiter = undefined;
    w.resolve();
  };

  const operationalPromise = (): { promise: Promise<Registration>; resolve: (r: Registration) => void; resolved: boolean } => {
    if (operational === undefined) {
      let resolve!: (r: Registration) => void;
      const promise = new Promise<Registration>((r) => (resolve = r));
      operational = { promise, resolve, resolved: false };
    }
    return operational;
  };

  async function request(payload: Payload, maxAttempts = attempts): Promise<Payload> {
    for (let attempt = 1; ; attempt++) {
      if (stopped && payload.type !== 'CancelPartyRegistration') throw new VenError(VenErrorCode.STOPPED, `VEN stopped before ${payload.type} was sent`);
      try {
        const answer = await options.transport.request(payload);
        options.onExchange?.(undefined);
        return answer;
      } catch (err) {
        options.onExchange?.(err);
        if (isNoService(err)) giveUp(err);
        // Only an unreachable VTN is retried here (a lost connection is often gone a second later);
        // a refusal or a protocol error goes to the caller, whose loop backs off.
        if (!(err instanceof VenError) || err.code !== VenErrorCode.VTN_UNREACHABLE || attempt >= maxAttempts) throw err;
        const wait = backoffDelay(attempt, random, options.backoff);
        const line = vtnFailureLog(err, payload.type, `retrying after ${wait} ms`);
        log.warn({ ...line.fields, attempt, wait, payload: payload.type }, line.message);
        await new Promise<void>((r) => setTimeout(r, wait).unref());
      }
    }
  }

  /** A 404: nothing at that URL serves OpenADR; the session stops instead of retrying for ever. */
  function giveUp(err: VenError): void {
    if (stopped) return;
    stopped = true;
    wake();
    log.warn({ kind: 'refused', code: err.code, httpStatus: err.httpStatus, detail: err.message }, `VTN answered HTTP 404: no OpenADR 2.0b service at that URL; the VEN stops (a 404 is not retried): check --vtn-url, the VTN's base URL with its path prefix if it has one`);
    options.onGiveUp?.(err);
  }

  async function step(event: RegistrationEvent): Promise<void> {
    const before = state.status;
    const r = stepRegistration(state, event);
    state = r.state;
    for (const action of r.actions) {
      switch (action.type) {
        case 'store':
          options.onRegistration?.(action.registration);
          break;
        case 'clear':
          options.onRegistration?.(undefined);
          handler.onUnregistered();
          break;
        case 'backoff':
          break; // the loop waits
        case 'sendCreate': {
          const create = createRegistrationPayload({
            requestId: newRequestId('reg'),
            venName: options.venName,
            registration: action.registration,
            transportAddress: options.transportAddress,
            transportName: options.transportName,
          });
          let answer: Payload;
          try {
            answer = await request(create);
          } catch (err) {
            const line = vtnFailureLog(err, 'registration', 'registering again after a back-off');
            if (!stopped) log.warn(line.fields, line.message);
            await step({ type: 'failed' });
            break;
          }
          if (answer.type === 'CreatedPartyRegistration') {
            if (answer.response.code !== ResponseCode.OK) log.warn({ code: answer.response.code, description: answer.response.description }, 'VTN refused the registration');
            await step({ type: 'created', payload: answer });
          } else {
            await step({ type: 'failed' });
          }
          break;
        }
        case 'sync':
        case 'sendMetadata': {
          const reg = state.registration;
          if (reg === undefined) break;
          for (const p of handler.onRegistered(reg, action.type === 'sync')) {
            try {
              await send(p);
            } catch (err) {
              const line = vtnFailureLog(err, `${p.type} after registration`, 'continuing');
              log.warn({ ...line.fields, payload: p.type }, line.message);
            }
          }
          if (action.type === 'sync') await step({ type: 'synced' });
          break;
        }
      }
    }
    if (state.status === RegistrationStatus.OPERATIONAL && state.registration !== undefined && before !== RegistrationStatus.OPERATIONAL) {
      const o = operationalPromise();
      o.resolve(state.registration);
      o.resolved = true;
      options.onOperational?.(state.registration);
    }
    // A failed registration attempt keeps the waiters of whenOperational(); only a promise already resolved is replaced.
    if (state.status === RegistrationStatus.UNREGISTERED && operational?.resolved === true) operational = undefined;
  }

  /** Handles a VTN payload; returns the reply and sends the follow-ups. */
  async function process(payload: Payload, origin: PayloadOriginValue): Promise<Payload | undefined> {
    const reg = state.registration;
    switch (payload.type) {
      case 'CreatedPartyRegistration':
        return undefined; // answers to our creates are handled in step()
      case 'RequestReregistration':
        if (reg === undefined || payload.venId !== reg.venId) return responsePayload(ResponseCode.INVALID_ID, reg?.venId);
        queueMicrotask(() => void step({ type: 'reregistrationRequested' }));
        return responsePayload(ResponseCode.OK, reg.venId);
      case 'CancelPartyRegistration': {
        const ok = reg !== undefined && payload.registrationId === reg.registrationId;
        const answer: Payload = {
          type: 'CanceledPartyRegistration',
          schemaVersion: '2.0b',
          response: { code: ok ? ResponseCode.OK : ResponseCode.INVALID_ID, requestId: payload.requestId },
          registrationId: payload.registrationId,
          ...(reg === undefined ? {} : { venId: reg.venId }),
        };
        if (ok) queueMicrotask(() => void step({ type: 'cancelReceived' }).then(wake));
        return answer;
      }
      case 'Response':
        if (payload.response.code === ResponseCode.NOT_REGISTERED_OR_AUTHORIZED) {
          log.warn({}, 'VTN says this VEN is not registered (463): registering again');
          await step({ type: 'notRegistered' });
          wake();
        }
        return undefined;
      default:
        break;
    }
    if (reg === undefined) return undefined; // R405: ignore VTN payloads while unregistered
    const result = await handler.onPayload(payload, origin, reg);
    for (const f of result.followUps ?? []) {
      void send(f).catch((err: unknown) => {
        const line = vtnFailureLog(err, `follow-up ${f.type}`, 'not sent again');
        log.warn({ ...line.fields, payload: f.type }, line.message);
      });
    }
    return result.reply;
  }

  async function send(payload: Payload, sendOptions: { readonly attempts?: number } = {}): Promise<Payload> {
    const answer = await request(payload, sendOptions.attempts);
    await process(answer, PayloadOrigin.ANSWER);
    return answer;
  }

  function responsePayload(code: number, venId: string | undefined): Payload {
    return { type: 'Response', schemaVersion: '2.0b', response: { code, requestId: '' }, ...(venId === undefined ? {} : { venId }) };
  }

  /** R500: poll until the VTN answers oadrResponse (queue empty). */
  async function drain(): Promise<void> {
    for (let i = 0; i < MAX_DRAIN && !stopped; i++) {
      const reg = state.registration;
      if (reg === undefined || state.status !== RegistrationStatus.OPERATIONAL) return;
      const answer = await request({ type: 'Poll', schemaVersion: '2.0b', venId: reg.venId });
      if (answer.type === 'Response') {
        await process(answer, PayloadOrigin.POLL);
        return;
      }
      const reply = await process(answer, PayloadOrigin.POLL);
      if (reply !== undefined && reply.type !== 'Response') await send(reply); // pull: the answer is its own POST (R500)
    }
  }

  function pollIntervalMs(): number {
    const vtn = state.registration?.pollFreqMs;
    const wanted = options.pollIntervalMs ?? vtn ?? DEFAULT_POLL_MS;
    return Math.max(wanted, vtn ?? 0) + Math.floor(random() * (options.pollJitterMs ?? 0));
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopped) {
      try {
        if (state.status === RegistrationStatus.UNREGISTERED) {
          await step({ type: state.failures === 0 ? 'boot' : 'retry' });
          if (state.status === RegistrationStatus.UNREGISTERED && !stopped) await sleep(backoffDelay(Math.max(1, state.failures), random, options.backoff));
          continue;
        }
        if (options.transportAddress === undefined) await drain();
        failures = 0;
        await sleep(options.transportAddress === undefined ? pollIntervalMs() : 60_000);
      } catch (err) {
        if (stopped) break;
        failures++;
        const wait = backoffDelay(failures, random, { ...options.backoff, capMs: Math.min(options.backoff?.capMs ?? 300_000, Math.max(1000, pollIntervalMs())) });
        const line = vtnFailureLog(err, 'the VTN exchange', `backing off ${wait} ms`);
        log.warn({ ...line.fields, wait }, line.message);
        await sleep(wait);
      }
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      loop = run();
    },
    async stop() {
      stopped = true;
      wake();
      await loop;
      await options.transport.close();
    },
    status: () => state.status,
    registration: () => state.registration,
    whenOperational: () => operationalPromise().promise,
    send,
    async handlePush(payload) {
      return process(payload, PayloadOrigin.PUSH);
    },
    pollNow: wake,
    async cancelRegistration() {
      const reg = state.registration;
      if (reg !== undefined) {
        try {
          await request({ type: 'CancelPartyRegistration', schemaVersion: '2.0b', requestId: newRequestId('cancel'), registrationId: reg.registrationId, venId: reg.venId });
        } catch (err) {
          log.warn({ err }, 'cancelling the registration failed');
        }
        await step({ type: 'cancelAcknowledged' });
      }
      stopped = true;
      wake();
      await loop;
    },
  };
}
