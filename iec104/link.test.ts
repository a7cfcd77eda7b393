/**
 * The link layer's state machine with time as a number: STARTDT/STOPDT/TESTFR, the k and w windows,
 * t1/t2/t3, and the sequence checks that close a connection (IEC 60870-5-104 §5).
 */
import { test } from 'node:test';
import { encodeApdu, parseApdu, SEQ_MODULO, type Apdu } from './codec/apdu.ts';
import { createLink, DEFAULT_LINK_CONFIG, nextDeadline, resolveLinkConfig, step, type LinkAction, type LinkEvent, type LinkState } from './link.ts';
import { toHex, VECTORS } from './testing/vectors.ts';

const ASDU = Uint8Array.of(0x0d, 0x01, 0x01, 0x00, 0x01, 0x00, 0xe9, 0x03, 0x00, 0x00, 0x00, 0x66, 0x43, 0x00);

/** A link driven by a list of events; collects the actions, decoding written frames. */
class Rig {
  state: LinkState;
  actions: LinkAction[] = [];
  constructor(config = DEFAULT_LINK_CONFIG) {
    this.state = createLink(config, 0);
  }
  on(event: LinkEvent, now: number): LinkAction[] {
    const r = step(this.state, event, now);
    this.state = r.state;
    this.actions.push(...r.actions);
    return [...r.actions];
  }
  frame(apdu: Apdu, now = 0): LinkAction[] {
    // Every frame goes through the codec, as on the wire.
    return this.on({ type: 'frame', apdu: parseApdu(encodeApdu(apdu)) }, now);
  }
  i(sendSeq: number, recvSeq: number, now = 0): LinkAction[] {
    return this.frame({ format: 'I', sendSeq, recvSeq, asdu: ASDU }, now);
  }
  start(): this {
    this.frame({ format: 'U', fn: 'STARTDT_ACT' });
    return this;
  }
}

const written = (actions: readonly LinkAction[]): Apdu[] => actions.flatMap((a) => (a.type === 'write' ? [parseApdu(a.bytes)] : []));
const closed = (actions: readonly LinkAction[]): string | undefined => actions.flatMap((a) => (a.type === 'close' ? [a.error.code] : []))[0];

test('STARTDT act is confirmed with the vector bytes; TESTFR act with TESTFR con (§5.3)', (t) => {
  const rig = new Rig();
  const a = rig.frame({ format: 'U', fn: 'STARTDT_ACT' });
  t.assert.deepEqual(a.map((x) => (x.type === 'write' ? toHex(x.bytes) : x.type)), [VECTORS.startdtCon, 'started']);
  t.assert.equal(rig.state.started, true);
  const b = rig.frame({ format: 'U', fn: 'TESTFR_ACT' });
  t.assert.deepEqual(b.map((x) => (x.type === 'write' ? toHex(x.bytes) : x.type)), [VECTORS.testfrCon]);
});

test('no I-frame leaves before STARTDT; an I-frame received before it closes the connection (§5.3)', (t) => {
  const rig = new Rig();
  t.assert.deepEqual(rig.on({ type: 'send', asdu: ASDU }, 0), []);
  const started = rig.frame({ format: 'U', fn: 'STARTDT_ACT' });
  t.assert.deepEqual(written(started).map((f) => f.format), ['U', 'I']);
  const early = new Rig();
  t.assert.equal(closed(early.i(0, 0)), 'SEQUENCE');
  t.assert.equal(early.state.closed, true);
  t.assert.deepEqual(early.i(0, 0), [], 'a closed link does nothing');
});

test('k = 12: the 13th I-frame waits until the peer acknowledges; its N(R) frees the window', (t) => {
  const rig = new Rig().start();
  for (let n = 0; n < 13; n++) rig.on({ type: 'send', asdu: ASDU }, 1);
  const sent = written(rig.actions).filter((f) => f.format === 'I');
  t.assert.deepEqual(sent.map((f) => (f.format === 'I' ? f.sendSeq : -1)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  t.assert.equal(rig.state.queue.length, 1);
  const after = rig.frame({ format: 'S', recvSeq: 5 }, 2);
  t.assert.deepEqual(written(after).map((f) => (f.format === 'I' ? f.sendSeq : -1)), [12]);
  t.assert.equal(rig.state.sentAt.length, 8);
});

test('w = 8: received I-frames are acknowledged by an S-frame after the 8th, not before', (t) => {
  const rig = new Rig().start();
  for (let n = 0; n < 7; n++) t.assert.deepEqual(written(rig.i(n, 0)), [], `frame ${n}`);
  t.assert.deepEqual(written(rig.i(7, 0)), [{ format: 'S', recvSeq: 8 }]);
  t.assert.equal(toHex(encodeApdu({ format: 'S', recvSeq: 10 })), VECTORS.sFrame10);
});

test('t2: a lone received I-frame is acknowledged at t2 (10 s), not earlier; an I-frame we send acknowledges it instead', (t) => {
  const rig = new Rig().start();
  rig.i(0, 0, 1_000);
  t.assert.equal(nextDeadline(rig.state), 11_000);
  t.assert.deepEqual(rig.on({ type: 'tick' }, 10_999), []);
  t.assert.deepEqual(written(rig.on({ type: 'tick' }, 11_000)), [{ format: 'S', recvSeq: 1 }]);
  const other = new Rig().start();
  other.i(0, 0, 1_000);
  const out = written(other.on({ type: 'send', asdu: ASDU }, 2_000));
  t.assert.deepEqual(out.map((f) => (f.format === 'I' ? f.recvSeq : -1)), [1]);
  t.assert.equal(other.state.unacked, 0);
  t.assert.deepEqual(written(other.on({ type: 'tick' }, 11_000)), []);
});

test('t3: TESTFR act after 20 s without a frame; closed when its con does not come within t1; a con keeps it open', (t) => {
  const rig = new Rig().start();
  t.assert.deepEqual(rig.on({ type: 'tick' }, 19_999), []);
  t.assert.deepEqual(written(rig.on({ type: 'tick' }, 20_000)), [{ format: 'U', fn: 'TESTFR_ACT' }]);
  t.assert.equal(nextDeadline(rig.state), 35_000);
  t.assert.equal(closed(rig.on({ type: 'tick' }, 35_000)), 'TIMEOUT');
  const ok = new Rig().start();
  ok.on({ type: 'tick' }, 20_000);
  ok.frame({ format: 'U', fn: 'TESTFR_CON' }, 21_000);
  t.assert.deepEqual(ok.on({ type: 'tick' }, 36_000), []);
  t.assert.equal(nextDeadline(ok.state), 41_000);
});

test('t1: an I-frame not acknowledged within 15 s closes the connection', (t) => {
  const rig = new Rig().start();
  rig.on({ type: 'send', asdu: ASDU }, 1_000);
  rig.frame({ format: 'U', fn: 'TESTFR_ACT' }, 10_000);
  t.assert.equal(nextDeadline(rig.state), 16_000);
  t.assert.equal(closed(rig.on({ type: 'tick' }, 15_999)), undefined);
  t.assert.equal(closed(rig.on({ type: 'tick' }, 16_000)), 'TIMEOUT');
});

test('sequence checks: a wrong N(S), an N(R) beyond what we sent, or behind what was acknowledged closes (§5.1)', (t) => {
  const gap = new Rig().start();
  gap.i(0, 0);
  t.assert.equal(closed(gap.i(2, 0)), 'SEQUENCE');
  const repeat = new Rig().start();
  repeat.i(0, 0);
  t.assert.equal(closed(repeat.i(0, 0)), 'SEQUENCE', 'a repeated N(S)');
  const ahead = new Rig().start();
  ahead.on({ type: 'send', asdu: ASDU }, 0);
  t.assert.equal(closed(ahead.frame({ format: 'S', recvSeq: 2 })), 'SEQUENCE');
  const behind = new Rig().start();
  behind.on({ type: 'send', asdu: ASDU }, 0);
  behind.on({ type: 'send', asdu: ASDU }, 0);
  behind.frame({ format: 'S', recvSeq: 2 });
  t.assert.equal(closed(behind.frame({ format: 'S', recvSeq: 1 })), 'SEQUENCE');
  const inFrame = new Rig().start();
  t.assert.equal(closed(inFrame.i(0, 1)), 'SEQUENCE', 'the N(R) of an I-frame is checked too');
});

test('sequence numbers wrap from 32767 to 0 on both sides', (t) => {
  const rig = new Rig(resolveLinkConfig({ k: 32_767, w: 32_767 })).start();
  rig.state = { ...rig.state, sendSeq: SEQ_MODULO - 1, peerAck: SEQ_MODULO - 1, recvSeq: SEQ_MODULO - 1 };
  const out = written([...rig.on({ type: 'send', asdu: ASDU }, 0), ...rig.on({ type: 'send', asdu: ASDU }, 0)]);
  t.assert.deepEqual(out.map((f) => (f.format === 'I' ? f.sendSeq : -1)), [32_767, 0]);
  t.assert.equal(closed(rig.i(32_767, 1)), undefined, 'N(R) = 1 acknowledges both across the wrap');
  t.assert.equal(rig.state.sentAt.length, 0);
  t.assert.equal(closed(rig.i(0, 1)), undefined);
  t.assert.equal(rig.state.recvSeq, 1);
});

test('STOPDT act: data stops at once, the con waits until the peer acknowledged what was sent', (t) => {
  const rig = new Rig().start();
  rig.on({ type: 'send', asdu: ASDU }, 0);
  rig.i(0, 0);
  const stop = rig.frame({ format: 'U', fn: 'STOPDT_ACT' });
  t.assert.deepEqual(written(stop), [{ format: 'S', recvSeq: 1 }], 'what we received is acknowledged, no con yet');
  t.assert.deepEqual(written(rig.on({ type: 'send', asdu: ASDU }, 0)), [], 'no data after STOPDT act');
  const ack = rig.frame({ format: 'S', recvSeq: 1 });
  t.assert.deepEqual(ack.map((a) => (a.type === 'write' ? toHex(a.bytes) : a.type)), ['68 04 23 00 00 00', 'stopped']);
  const again = rig.frame({ format: 'U', fn: 'STARTDT_ACT' });
  t.assert.deepEqual(written(again).map((f) => f.format), ['U', 'I'], 'the queued ASDU leaves after a new STARTDT');
});

test('the configuration: defaults k = 12, w = 8, t0–t3 = 10/15/10/20 s; t2 below t1, positive windows', (t) => {
  t.assert.deepEqual({ ...resolveLinkConfig() }, { k: 12, w: 8, t0Ms: 10_000, t1Ms: 15_000, t2Ms: 10_000, t3Ms: 20_000 });
  t.assert.throws(() => resolveLinkConfig({ t2Ms: 15_000 }), { code: 'INVALID_CONFIG' });
  t.assert.throws(() => resolveLinkConfig({ k: 0 }), { code: 'INVALID_CONFIG' });
  t.assert.throws(() => resolveLinkConfig({ t3Ms: Number.NaN }), { code: 'INVALID_CONFIG' });
});
