/**
 * The link layer of IEC 60870-5-104 (§5) as a pure state machine: `step(state, event, now)` returns
 * the next state and the actions for the adapter (bytes to write, an ASDU to deliver, close). No
 * clock, no socket: the adapter passes `now` and calls `tick` at `nextDeadline(state)`.
 *
 * As the controlled station: no I-frame leaves before STARTDT act (§5.3) and one received before it
 * closes the connection; at most k I-frames wait for acknowledgement (§5.5); received I-frames are
 * acknowledged after w of them or within t2, by an S-frame or the N(R) of an I-frame we send; after
 * t3 without a frame received we send TESTFR act; an I-frame or TESTFR act not confirmed within t1
 * closes the connection, as does a wrong N(S) or an N(R) outside the window (§5.1). t0 (connection
 * establishment) belongs to the side that connects: the controlling station.
 */
import { Iec104Error } from './errors.ts';
import { encodeApdu, SEQ_MODULO, type Apdu } from './codec/apdu.ts';

export interface LinkConfig {
  /** Most I-frames sent and not yet acknowledged (§5.5, default 12). */
  readonly k: number;
  /** Acknowledge at the latest after w received I-frames (default 8). */
  readonly w: number;
  /** Connection establishment (the connecting side's; default 10 s). */
  readonly t0Ms: number;
  /** Send or test APDU not confirmed (default 15 s). */
  readonly t1Ms: number;
  /** Acknowledge when no data is sent (default 10 s; below t1). */
  readonly t2Ms: number;
  /** Idle: TESTFR act after this long without a frame received (default 20 s). */
  readonly t3Ms: number;
}

export const DEFAULT_LINK_CONFIG: LinkConfig = Object.freeze({ k: 12, w: 8, t0Ms: 10_000, t1Ms: 15_000, t2Ms: 10_000, t3Ms: 20_000 });

export interface LinkState {
  readonly config: LinkConfig;
  /** STARTDT act received and confirmed (data transfer on). */
  readonly started: boolean;
  readonly closed: boolean;
  /** V(S): the N(S) of the next I-frame we send. */
  readonly sendSeq: number;
  /** V(R): the N(S) we expect next. */
  readonly recvSeq: number;
  /** The N(S) of the oldest I-frame we sent that the peer has not acknowledged. */
  readonly peerAck: number;
  /** When each unacknowledged I-frame was sent, oldest first (t1). */
  readonly sentAt: readonly number[];
  /** I-frames received and not yet acknowledged by us, and when the first of them came (t2). */
  readonly unacked: number;
  readonly unackedSince: number;
  /** When the last frame came (t3). */
  readonly lastReceivedAt: number;
  /** When our TESTFR act left, while its con has not come (t1). */
  readonly testSince: number | undefined;
  /** STOPDT act received: the con waits until the peer has acknowledged all we sent. */
  readonly stopping: boolean;
  /** ASDUs waiting for STARTDT or for room in the k window. */
  readonly queue: readonly Uint8Array[];
}

export type LinkEvent =
  | { readonly type: 'frame'; readonly apdu: Apdu }
  /** The application sends an ASDU (queued until STARTDT and room in the window). */
  | { readonly type: 'send'; readonly asdu: Uint8Array }
  /** Time passed: check t1, t2, t3. */
  | { readonly type: 'tick' };

export type LinkAction =
  | { readonly type: 'write'; readonly bytes: Uint8Array }
  | { readonly type: 'deliver'; readonly asdu: Uint8Array }
  | { readonly type: 'started' }
  | { readonly type: 'stopped' }
  | { readonly type: 'close'; readonly error: Iec104Error };

export interface Step {
  readonly state: LinkState;
  readonly actions: readonly LinkAction[];
}

/** The link configuration with defaults, checked: k and w 1–32767, timers positive, t2 below t1 (§5.5). */
export function resolveLinkConfig(input: Partial<LinkConfig> = {}): LinkConfig {
  const c = { ...DEFAULT_LINK_CONFIG, ...input };
  for (const key of ['k', 'w'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1 || c[key] >= SEQ_MODULO) throw new Iec104Error('INVALID_CONFIG', `${key} must be an integer 1–32767, got ${c[key]}`);
  }
  for (const key of ['t0Ms', 't1Ms', 't2Ms', 't3Ms'] as const) {
    if (!Number.isFinite(c[key]) || c[key] <= 0) throw new Iec104Error('INVALID_CONFIG', `${key} must be a positive number of milliseconds, got ${c[key]}`);
  }
  if (c.t2Ms >= c.t1Ms) throw new Iec104Error('INVALID_CONFIG', `t2 (${c.t2Ms} ms) must be below t1 (${c.t1Ms} ms): an acknowledgement must come before the peer gives up`);
  return Object.freeze(c);
}

export function createLink(config: LinkConfig, now: number): LinkState {
  return { config, started: false, closed: false, sendSeq: 0, recvSeq: 0, peerAck: 0, sentAt: [], unacked: 0, unackedSince: now, lastReceivedAt: now, testSince: undefined, stopping: false, queue: [] };
}

const mod = (x: number): number => ((x % SEQ_MODULO) + SEQ_MODULO) % SEQ_MODULO;

/** The time of the next timer (t1, t2 or t3) to check with a `tick`; undefined once closed. */
export function nextDeadline(s: LinkState): number | undefined {
  if (s.closed) return undefined;
  const c = s.config;
  const times = [s.testSince === undefined ? s.lastReceivedAt + c.t3Ms : s.testSince + c.t1Ms];
  if (s.sentAt.length > 0) times.push((s.sentAt[0] as number) + c.t1Ms);
  if (s.unacked > 0) times.push(s.unackedSince + c.t2Ms);
  return Math.min(...times);
}

export function step(state: LinkState, event: LinkEvent, now: number): Step {
  if (state.closed) return { state, actions: [] };
  const actions: LinkAction[] = [];
  let s: LinkState = state;
  const write = (apdu: Apdu): void => void actions.push({ type: 'write', bytes: encodeApdu(apdu) });
  const close = (error: Iec104Error): Step => ({ state: { ...s, closed: true, started: false, queue: [] }, actions: [...actions, { type: 'close', error }] });
  const acknowledge = (): void => {
    write({ format: 'S', recvSeq: s.recvSeq });
    s = { ...s, unacked: 0 };
  };
  const flush = (): void => {
    if (!s.started || s.stopping) return;
    const queue = [...s.queue];
    const sentAt = [...s.sentAt];
    let sendSeq = s.sendSeq;
    while (queue.length > 0 && sentAt.length < s.config.k) {
      write({ format: 'I', sendSeq, recvSeq: s.recvSeq, asdu: queue.shift() as Uint8Array });
      sentAt.push(now);
      sendSeq = mod(sendSeq + 1);
    }
    // An I-frame carries N(R): it acknowledges what we received.
    if (sendSeq !== s.sendSeq) s = { ...s, queue, sentAt, sendSeq, unacked: 0 };
  };
  /** The peer's N(R): acknowledges our I-frames up to N(R) − 1; outside [peerAck, sendSeq] is a sequence error. */
  const peerAcks = (nr: number): Iec104Error | undefined => {
    const count = mod(nr - s.peerAck);
    if (count > s.sentAt.length) {
      return new Iec104Error('SEQUENCE', `the peer acknowledged N(R) = ${nr}, outside the window ${s.peerAck}…${s.sendSeq} of I-frames sent; closing the connection (IEC 60870-5-104 §5.1)`);
    }
    s = { ...s, peerAck: nr, sentAt: s.sentAt.slice(count) };
    if (s.stopping && s.sentAt.length === 0) {
      write({ format: 'U', fn: 'STOPDT_CON' });
      s = { ...s, stopping: false };
      actions.push({ type: 'stopped' });
    }
    return undefined;
  };

  switch (event.type) {
    case 'send':
      s = { ...s, queue: [...s.queue, event.asdu] };
      flush();
      break;
    case 'tick': {
      const c = s.config;
      if (s.sentAt.length > 0 && now - (s.sentAt[0] as number) >= c.t1Ms) {
        return close(new Iec104Error('TIMEOUT', `I-frame N(S) = ${s.peerAck} not acknowledged within t1 (${c.t1Ms} ms); closing the connection`));
      }
      if (s.testSince !== undefined && now - s.testSince >= c.t1Ms) return close(new Iec104Error('TIMEOUT', `TESTFR act not confirmed within t1 (${c.t1Ms} ms); closing the connection`));
      if (s.unacked > 0 && now - s.unackedSince >= c.t2Ms) acknowledge();
      if (s.testSince === undefined && now - s.lastReceivedAt >= c.t3Ms) {
        write({ format: 'U', fn: 'TESTFR_ACT' });
        s = { ...s, testSince: now };
      }
      break;
    }
    case 'frame': {
      const apdu = event.apdu;
      s = { ...s, lastReceivedAt: now };
      if (apdu.format === 'I') {
        if (!s.started) return close(new Iec104Error('SEQUENCE', 'an I-frame came before STARTDT act; closing the connection (IEC 60870-5-104 §5.3)'));
        if (apdu.sendSeq !== s.recvSeq) return close(new Iec104Error('SEQUENCE', `received N(S) = ${apdu.sendSeq}, expected ${s.recvSeq}; closing the connection (IEC 60870-5-104 §5.1)`));
        const err = peerAcks(apdu.recvSeq);
        if (err !== undefined) return close(err);
        s = { ...s, recvSeq: mod(s.recvSeq + 1), unacked: s.unacked + 1, unackedSince: s.unacked === 0 ? now : s.unackedSince };
        actions.push({ type: 'deliver', asdu: apdu.asdu });
        if (s.unacked >= s.config.w) acknowledge();
        flush();
      } else if (apdu.format === 'S') {
        const err = peerAcks(apdu.recvSeq);
        if (err !== undefined) return close(err);
        flush();
      } else {
        switch (apdu.fn) {
          case 'STARTDT_ACT':
            write({ format: 'U', fn: 'STARTDT_CON' });
            if (!s.started) actions.push({ type: 'started' });
            s = { ...s, started: true, stopping: false };
            flush();
            break;
          case 'STOPDT_ACT':
            if (s.unacked > 0) acknowledge();
            if (!s.started && !s.stopping) {
              write({ format: 'U', fn: 'STOPDT_CON' });
              break;
            }
            s = { ...s, started: false, stopping: true };
            // Confirmed at once when nothing waits for acknowledgement, else once the peer has acknowledged it all.
            peerAcks(s.peerAck);
            break;
          case 'TESTFR_ACT':
            write({ format: 'U', fn: 'TESTFR_CON' });
            break;
          case 'TESTFR_CON':
            s = { ...s, testSince: undefined };
            break;
          default:
            // STARTDT con and STOPDT con answer acts a controlled station never sends: ignored.
            break;
        }
      }
      break;
    }
  }
  return { state: s, actions };
}
