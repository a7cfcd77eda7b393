/**
 * The station over real TCP on loopback, driven by a controlling station written independently of
 * the codec (testing/controlling-station.ts): start, interrogation, data to the started connection
 * only (redundancy), set-points, the allow-list, and connections closed on framing or sequence errors.
 */
import { test } from 'node:test';
import { TYPE } from './codec/constants.ts';
import { encodeAsdu } from './codec/asdu.ts';
import { createIec104Server, type Iec104Server } from './server.ts';
import type { StationHandler } from './station.ts';
import { connectControllingStation } from './testing/controlling-station.ts';

const handler = (executed: number[] = []): StationHandler => ({
  commandPoint: (typeId, ioa) => (ioa === 5000 && typeId === TYPE.C_SE_NC_1 ? { selectRequired: false } : undefined),
  check: (c) => ((c.value as number) < 0 ? 'a negative modulation is not offered' : undefined),
  execute: async (c) => void executed.push(c.value as number),
  interrogate: () => [{ typeId: TYPE.M_ME_NC_1, objects: [{ ioa: 1001, value: 230, quality: 0 }] }],
});

const measurement = (value: number): Uint8Array => encodeAsdu({ typeId: TYPE.M_ME_NC_1, cause: 1, commonAddress: 1, objects: [{ ioa: 1001, value }] });

async function serve(t: { after: (f: () => Promise<void>) => void }, options: Partial<Parameters<typeof createIec104Server>[0]> = {}): Promise<{ server: Iec104Server; port: number }> {
  const server = createIec104Server({ commonAddress: 1, handler: handler(), ...options });
  const { port } = await server.listen({ port: 0 });
  t.after(() => server.close());
  return { server, port };
}

test('a controlling station starts, interrogates, receives data and sends set-points (direct and select-before-operate)', async (t) => {
  const executed: number[] = [];
  const { server, port } = await serve(t, { handler: handler(executed) });
  const cs = await connectControllingStation({ port });
  t.after(() => cs.close());
  t.assert.equal(server.publish(measurement(1)), false, 'no data before STARTDT');
  await cs.startDt();
  const gi = await cs.interrogate();
  t.assert.deepEqual(gi.map((r) => [r.typeId, r.cause, r.ioa, r.value ?? r.qualifier]), [[100, 7, 0, 20], [13, 20, 1001, 230], [100, 10, 0, 20]]);
  t.assert.equal(server.publish(measurement(231.5)), true);
  const m = await cs.next((r) => r.typeId === TYPE.M_ME_NC_1 && r.cause === 1);
  t.assert.deepEqual([m.ioa, m.value, m.qualifier], [1001, 231.5, 0]);
  const sel = await cs.setpoint({ ioa: 5000, value: 42.5, select: true });
  t.assert.deepEqual([sel.cause, sel.negative, sel.asdu.at(-1)], [7, false, 0x80]);
  const from = cs.received.length;
  const exe = await cs.setpoint({ ioa: 5000, value: 42.5 });
  t.assert.deepEqual([exe.cause, exe.negative], [7, false]);
  const term = await cs.next((r) => r.typeId === 50 && r.cause === 10, { from });
  t.assert.equal(term.negative, false);
  const direct = await cs.setpoint({ ioa: 5000, value: 10 });
  t.assert.deepEqual([direct.cause, direct.negative], [7, false]);
  await cs.next((r) => r.typeId === 50 && r.cause === 10 && r.value === 10);
  const neg = await cs.setpoint({ ioa: 5000, value: -5 });
  t.assert.deepEqual([neg.cause, neg.negative], [7, true]);
  t.assert.deepEqual(executed, [42.5, 10]);
  t.assert.deepEqual(cs.violations, []);
});

test('redundancy: data go only to the controlling station that sent STARTDT; a second STARTDT takes them over', async (t) => {
  const { server, port } = await serve(t);
  const main = await connectControllingStation({ port });
  const backup = await connectControllingStation({ port });
  t.after(() => {
    main.close();
    backup.close();
  });
  await main.startDt();
  server.publish(measurement(1));
  await main.next((r) => r.value === 1);
  await backup.startDt();
  server.publish(measurement(2));
  await backup.next((r) => r.value === 2);
  // The backup's GI answer comes after the measurement on the same connection: the main had time to receive it too, had it been sent.
  await backup.interrogate();
  t.assert.deepEqual(main.received.map((r) => r.value), [1]);
  t.assert.deepEqual(backup.received.filter((r) => r.cause === 1).map((r) => r.value), [2]);
  t.assert.deepEqual(server.status(), { connections: 2, started: true });
});

test('the allow-list refuses a controlling station from another address', async (t) => {
  const { server, port } = await serve(t, { allow: ['192.0.2.7'] });
  const cs = await connectControllingStation({ port });
  const outcome = await Promise.race([cs.closed.then(() => 'closed'), cs.startDt().then(() => 'started', () => 'closed')]);
  t.assert.equal(outcome, 'closed');
  t.assert.equal(server.status().connections, 0);
  const open = await serve(t, { allow: ['192.0.2.7', '127.0.0.1'] });
  const ok = await connectControllingStation({ port: open.port });
  t.after(() => ok.close());
  await ok.startDt();
});

test('the station closes the connection on a frame that is not IEC 104, a wrong N(S) and an I-frame before STARTDT', async (t) => {
  const { server, port } = await serve(t);
  const garbage = await connectControllingStation({ port });
  garbage.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  await garbage.closed;
  const early = await connectControllingStation({ port });
  early.sendAsdu('64 01 06 00 01 00 00 00 00 14');
  await early.closed;
  const gap = await connectControllingStation({ port });
  await gap.startDt();
  gap.write(Buffer.from('680e0400000064010600010000000014', 'hex'));
  await gap.closed;
  t.assert.equal(gap.received.length, 0);
  t.assert.equal(server.status().connections, 0);
});

test('t3 over a socket: a silent controlling station is tested with TESTFR act; one that does not answer is closed after t1', async (t) => {
  const { port } = await serve(t, { link: { t1Ms: 300, t2Ms: 100, t3Ms: 200 } });
  const cs = await connectControllingStation({ port });
  t.after(() => cs.close());
  await cs.startDt();
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (cs.control.includes('68 04 43 00 00 00')) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
  t.assert.equal(cs.control.filter((c) => c === '68 04 43 00 00 00').length >= 1, true);
  // A raw socket that never answers: the station gives up after t1.
  const { connect } = await import('node:net');
  const mute = connect({ port, host: '127.0.0.1' });
  mute.on('data', () => {});
  await new Promise<void>((resolve) => mute.once('close', () => resolve()));
});

test('the wire, octet for octet: the captured controlling station\'s frames in, the standard\'s answers out', async (t) => {
  const { port } = await serve(t);
  const { connect } = await import('node:net');
  const socket = connect({ port, host: '127.0.0.1' });
  t.after(() => socket.destroy());
  let got = Buffer.alloc(0);
  socket.on('data', (b: Buffer) => (got = Buffer.concat([got, b])));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
  const expect = async (want: string): Promise<void> => {
    const n = hex(want).length;
    const end = Date.now() + 10_000;
    while (got.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    const frame = got.subarray(0, n);
    got = got.subarray(n);
    t.assert.equal(frame.toString('hex').replace(/(..)(?!$)/g, '$1 '), want);
  };
  // STARTDT act (the vector) → STARTDT con (the vector).
  socket.write(hex('68 04 07 00 00 00'));
  await expect('68 04 0b 00 00 00');
  // TESTFR act → TESTFR con.
  socket.write(hex('68 04 43 00 00 00'));
  await expect('68 04 83 00 00 00');
  // The captured interrogation, N(S) = 0, N(R) = 0 → act-con N(S) 0 N(R) 1, the value N(S) 1, act-term N(S) 2.
  socket.write(hex('68 0e 00 00 00 00 64 01 06 00 01 00 00 00 00 14'));
  await expect('68 0e 00 00 02 00 64 01 07 00 01 00 00 00 00 14');
  await expect('68 12 02 00 02 00 0d 01 14 00 01 00 e9 03 00 00 00 66 43 00');
  await expect('68 0e 04 00 02 00 64 01 0a 00 01 00 00 00 00 14');
  // The captured select (N(S) = 1) acknowledges our three frames with N(R) = 3 → act-con with its S/E bit.
  socket.write(hex('68 12 02 00 06 00 32 01 06 00 01 00 88 13 00 00 00 2a 42 80'));
  await expect('68 12 06 00 04 00 32 01 07 00 01 00 88 13 00 00 00 2a 42 80');
  // An S-frame acknowledging N(R) = 4, then the execute (N(S) = 2) → act-con, act-term.
  socket.write(hex('68 04 01 00 08 00'));
  socket.write(hex('68 12 04 00 08 00 32 01 06 00 01 00 88 13 00 00 00 2a 42 00'));
  await expect('68 12 08 00 06 00 32 01 07 00 01 00 88 13 00 00 00 2a 42 00');
  await expect('68 12 0a 00 06 00 32 01 0a 00 01 00 88 13 00 00 00 2a 42 00');
});
