/**
 * The controlled station's application (IEC 60870-5-101 §7.4): interrogation, clock sync, test
 * command, set-points direct and select-before-operate, and the negative answers 44–47, each
 * checked on the octets it sends back.
 */
import { test } from 'node:test';
import { parseApdu } from './codec/apdu.ts';
import { parseAsdu } from './codec/asdu.ts';
import { TYPE } from './codec/constants.ts';
import { createStationSession, type Command, type StationHandler } from './station.ts';
import { hex, toHex, VECTORS } from './testing/vectors.ts';

/** The ASDU of a vector (its I-frame's octets after the APCI). */
const asduOf = (h: string): Uint8Array => {
  const a = parseApdu(hex(h));
  if (a.format !== 'I') throw new Error('an I-frame vector');
  return a.asdu;
};
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function rig(options: { selectRequired?: boolean; refuse?: string; fail?: boolean } = {}) {
  const sent: string[] = [];
  const executed: Command[] = [];
  const clock: number[] = [];
  const handler: StationHandler = {
    commandPoint: (typeId, ioa) => (ioa === 5000 && (typeId === TYPE.C_SE_NC_1 || typeId === TYPE.C_SE_TC_1) ? { selectRequired: options.selectRequired ?? false } : undefined),
    check: () => options.refuse,
    execute: async (c) => {
      executed.push(c);
      if (options.fail === true) throw new Error('the VTN refused');
    },
    interrogate: () => [
      { typeId: TYPE.M_ME_NC_1, objects: [{ ioa: 1001, value: 230, quality: 0 }, { ioa: 1002, value: 12.5, quality: 0x80 }] },
      { typeId: TYPE.M_SP_NA_1, objects: [{ ioa: 2001, value: true, quality: 0 }] },
    ],
    clockSync: (ms) => void clock.push(ms),
  };
  const session = createStationSession({ commonAddress: 1, handler }, (a) => void sent.push(toHex(a)));
  return { sent, executed, clock, session };
}

test('station interrogation: act-con, the values with cause 20, act-term (§7.4.5)', (t) => {
  const r = rig();
  r.session.receive(asduOf(VECTORS.interrogation), 0);
  t.assert.equal(r.sent.length, 4);
  t.assert.equal(r.sent[0], '64 01 07 00 01 00 00 00 00 14');
  t.assert.deepEqual(parseAsdu(hex(r.sent[1] as string)).objects, [{ ioa: 1001, value: 230, quality: 0 }, { ioa: 1002, value: 12.5, quality: 0x80 }]);
  t.assert.equal(parseAsdu(hex(r.sent[1] as string)).cause, 20);
  t.assert.equal(parseAsdu(hex(r.sent[2] as string)).typeId, TYPE.M_SP_NA_1);
  t.assert.equal(r.sent[3], '64 01 0a 00 01 00 00 00 00 14');
});

test('a broadcast interrogation (common address 65535) is answered with the station\'s own address', (t) => {
  const r = rig();
  r.session.receive(hex('64 01 06 00 ff ff 00 00 00 14'), 0);
  t.assert.equal(r.sent[0], '64 01 07 00 01 00 00 00 00 14');
  t.assert.equal(r.sent.at(-1), '64 01 0a 00 01 00 00 00 00 14');
});

test('select-before-operate with the vectors: select → act-con (S/E kept), execute → act-con, then act-term once executed', async (t) => {
  const r = rig({ selectRequired: true });
  r.session.receive(asduOf(VECTORS.setpointSelect), 0);
  t.assert.deepEqual(r.sent, ['32 01 07 00 01 00 88 13 00 00 00 2a 42 80']);
  t.assert.equal(r.executed.length, 0, 'a select executes nothing');
  r.session.receive(asduOf(VECTORS.setpointExecute), 1_000);
  t.assert.equal(r.sent[1], '32 01 07 00 01 00 88 13 00 00 00 2a 42 00');
  await tick();
  t.assert.equal(r.sent[2], '32 01 0a 00 01 00 88 13 00 00 00 2a 42 00');
  t.assert.deepEqual(r.executed, [{ typeId: TYPE.C_SE_NC_1, ioa: 5000, value: 42.5 }]);
});

test('select-before-operate refusals: execute without select where required, another value, a lapsed selection', async (t) => {
  const direct = rig({ selectRequired: true });
  direct.session.receive(asduOf(VECTORS.setpointExecute), 0);
  t.assert.deepEqual(direct.sent, ['32 01 47 00 01 00 88 13 00 00 00 2a 42 00']);
  const other = rig();
  other.session.receive(asduOf(VECTORS.setpointSelect), 0);
  other.session.receive(hex('32 01 06 00 01 00 88 13 00 00 00 28 42 00'), 1);
  t.assert.equal(other.sent[1], '32 01 47 00 01 00 88 13 00 00 00 28 42 00');
  const late = rig();
  late.session.receive(asduOf(VECTORS.setpointSelect), 0);
  late.session.receive(asduOf(VECTORS.setpointExecute), 30_001);
  t.assert.equal(late.sent[1], '32 01 47 00 01 00 88 13 00 00 00 2a 42 00');
  await tick();
  t.assert.equal(direct.executed.length + other.executed.length + late.executed.length, 0);
});

test('direct execute (no select) where allowed; C_SE_TC_1 keeps its time tag in act-con and act-term', async (t) => {
  const r = rig();
  r.session.receive(asduOf(VECTORS.setpointWithTime), 0);
  await tick();
  t.assert.deepEqual(r.sent, ['3f 01 07 00 01 00 88 13 00 00 00 2a 42 00 67 7c 18 02 07 0c 1a', '3f 01 0a 00 01 00 88 13 00 00 00 2a 42 00 67 7c 18 02 07 0c 1a']);
  t.assert.equal(r.executed[0]?.time?.minute, 24);
});

test('refused by the handler: act-con with P/N; failed in execution: act-term with P/N', async (t) => {
  const refused = rig({ refuse: 'no ledger' });
  refused.session.receive(asduOf(VECTORS.setpointExecute), 0);
  await tick();
  t.assert.deepEqual(refused.sent, ['32 01 47 00 01 00 88 13 00 00 00 2a 42 00']);
  const failed = rig({ fail: true });
  failed.session.receive(asduOf(VECTORS.setpointExecute), 0);
  await tick();
  t.assert.deepEqual(failed.sent, ['32 01 07 00 01 00 88 13 00 00 00 2a 42 00', '32 01 4a 00 01 00 88 13 00 00 00 2a 42 00']);
});

test('deactivation withdraws a selection (deact-con), and P/N when there is none', (t) => {
  const r = rig();
  r.session.receive(asduOf(VECTORS.setpointSelect), 0);
  r.session.receive(hex('32 01 08 00 01 00 88 13 00 00 00 2a 42 80'), 1);
  r.session.receive(hex('32 01 08 00 01 00 88 13 00 00 00 2a 42 80'), 2);
  t.assert.deepEqual(r.sent.slice(1), ['32 01 09 00 01 00 88 13 00 00 00 2a 42 80', '32 01 49 00 01 00 88 13 00 00 00 2a 42 80']);
});

test('unknown type 44, unknown cause 45, unknown common address 46, unknown IOA 47, all with P/N set and the rest mirrored', (t) => {
  const r = rig();
  r.session.receive(hex('2e 01 06 00 01 00 88 13 00 01'), 0);
  r.session.receive(hex('0d 01 03 00 01 00 e9 03 00 00 00 66 43 00'), 0);
  r.session.receive(hex('32 01 03 00 01 00 88 13 00 00 00 2a 42 00'), 0);
  r.session.receive(hex('32 01 06 00 02 00 88 13 00 00 00 2a 42 00'), 0);
  r.session.receive(hex('32 01 06 00 01 00 89 13 00 00 00 2a 42 00'), 0);
  r.session.receive(hex('64 01 06 00 01 00 01 00 00 14'), 0);
  r.session.receive(hex('32 01 86 00 01 00 89 13 00 00 00 2a 42 00'), 0);
  t.assert.deepEqual(r.sent, [
    '2e 01 6c 00 01 00 88 13 00 01',
    '0d 01 6c 00 01 00 e9 03 00 00 00 66 43 00',
    '32 01 6d 00 01 00 88 13 00 00 00 2a 42 00',
    '32 01 6e 00 02 00 88 13 00 00 00 2a 42 00',
    '32 01 6f 00 01 00 89 13 00 00 00 2a 42 00',
    '64 01 6f 00 01 00 01 00 00 14',
    // The test bit stays as received.
    '32 01 ef 00 01 00 89 13 00 00 00 2a 42 00',
  ]);
  t.assert.equal(r.executed.length, 0);
});

test('clock synchronisation: act-con mirrors the time, the handler gets the instant; the test command is mirrored', (t) => {
  const r = rig();
  r.session.receive(hex('67 01 06 00 01 00 00 00 00 c4 d9 17 02 07 0c 1a'), 0);
  t.assert.deepEqual(r.sent, ['67 01 07 00 01 00 00 00 00 c4 d9 17 02 07 0c 1a']);
  t.assert.deepEqual(r.clock, [Date.parse('2026-12-07T02:23:55.748Z')]);
  r.session.receive(hex('6b 01 06 00 01 00 00 00 00 34 12 c4 d9 17 02 07 0c 1a'), 0);
  t.assert.equal(r.sent[1], '6b 01 07 00 01 00 00 00 00 34 12 c4 d9 17 02 07 0c 1a');
  r.session.receive(hex('67 01 06 00 01 00 00 00 00 c4 d9 97 02 07 0c 1a'), 0);
  t.assert.equal(r.sent[2], '67 01 47 00 01 00 00 00 00 c4 d9 97 02 07 0c 1a', 'a time marked invalid (IV) is refused');
});

test('interrogation of a group that is not configured is refused (P/N); a GI deactivation is confirmed', (t) => {
  const r = rig();
  r.session.receive(hex('64 01 06 00 01 00 00 00 00 15'), 0);
  r.session.receive(hex('64 01 08 00 01 00 00 00 00 14'), 0);
  t.assert.deepEqual(r.sent, ['64 01 47 00 01 00 00 00 00 15', '64 01 09 00 01 00 00 00 00 14']);
});
