import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { exitCodeOf, type Exchange, type Finding } from './case.ts';
import { createTape } from './http-recorder.ts';
import { defineCase, pause, runCases, ruleIdsOf, selected } from './runner.ts';
import { runVtnSuite } from './vtn-suite.ts';
import { progressLine } from './progress.ts';
import { renderSummary } from './report/index.ts';

/** A peer on loopback that misbehaves the same way on every request. */
async function misbehaving(t: TestContext, behave: (res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => behave(res, req));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const ONLY = ['R511-query-registration', 'R402+R403-pull-registration'];

for (const [what, behave, message] of [
  ['answers nothing (time-out)', () => undefined, /no answer within 300 ms \(time-out\)/],
  ['closes the connection', (res: import('node:http').ServerResponse) => res.socket?.destroy(), /closed the connection without an answer/],
  ['answers HTML', (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>Login</body></html>'), /answered HTML \(text\/html\)/],
  ['answers 500', (res: import('node:http').ServerResponse) => res.writeHead(500).end('boom'), /answered HTTP 500 instead of 200/],
] as const) {
  test(`a VTN that ${what}: every case fails, saying what happened`, async (t) => {
    const url = await misbehaving(t, behave);
    const run = await runVtnSuite({ url, transport: 'http-pull', only: ONLY, requestTimeoutMs: 300 });
    t.assert.deepEqual(run.cases.map((c) => c.outcome), ['failed', 'failed']);
    for (const c of run.cases) {
      t.assert.match(c.findings[0]?.message ?? '', message);
      t.assert.equal(c.exchanges.some((e) => e.direction === 'sent'), true, 'the request is recorded');
    }
  });
}

test('a VTN nobody listens for: connection refused, every case fails, the exit code says so', async (t) => {
  const run = await runVtnSuite({ url: 'http://127.0.0.1:1', transport: 'http-pull', only: ONLY });
  t.assert.deepEqual(run.cases.map((c) => c.outcome), ['failed', 'failed']);
  t.assert.match(run.cases[0]?.findings[0]?.message ?? '', /connection refused/);
  t.assert.equal(exitCodeOf(run), 1);
});

test('cases without an adapter are skipped with the reason, never passed', async (t) => {
  const url = await misbehaving(t, (res) => res.writeHead(500).end());
  const run = await runVtnSuite({ url, transport: 'http-pull', only: ['R5+R115-modify'], cases: [defineCase('R5+R115-modify', 'needs an adapter', 'event', async (_ctx, c) => c.skip('needs the VTN to modify event: give an adapter'))] });
  t.assert.equal(run.cases[0]?.outcome, 'skipped');
  t.assert.match(run.cases[0]?.reason ?? '', /adapter/);
});

test('outcomes: a finding fails, an expected failure is expected-fail with its reason, a pass on the list is unexpected-pass, a thrown error fails', async (t) => {
  const slot = { current: createTape() };
  const cases = [
    defineCase<null>('R1-pass', 'passes', 'general', async () => undefined),
    defineCase<null>('R2-fail', 'fails', 'general', async (_c, x) => x.check(false, 'wrong', { expected: 'a', actual: 'b' })),
    defineCase<null>('R3-known', 'known deviation', 'general', async (_c, x) => x.fail({ message: 'deviates' })),
    defineCase<null>('R4-fixed', 'deviation gone', 'general', async () => undefined),
    defineCase<null>('R6-throws', 'throws', 'general', async () => {
      throw new Error('bad state');
    }),
  ];
  const run = await runCases({ side: 'vtn', transport: 'http-pull', peer: 'x', tool: 'test', cases, context: null, slot, expectedFail: [{ id: 'R3-known', reason: 'documented' }, { id: 'R4-fixed', reason: 'documented' }] });
  t.assert.deepEqual(run.cases.map((c) => c.outcome), ['passed', 'failed', 'expected-fail', 'unexpected-pass', 'failed']);
  t.assert.deepEqual(run.cases[1]?.findings, [{ ruleIds: ['R2'], message: 'wrong', expected: 'a', actual: 'b' }]);
  t.assert.equal(run.cases[2]?.reason, 'documented');
  t.assert.match(run.cases[4]?.findings[0]?.message ?? '', /could not go on: bad state/);
  const table = renderSummary(run);
  t.assert.match(table, /5 cases: 1 passed, 2 failed, 0 skipped, 1 expected-fail, 1 unexpected-pass/);
  t.assert.match(table, /R2-fail +R2 +failed +R2: wrong/);
});

test('a case that runs past its time-out fails, and its waits are abandoned', async (t) => {
  let abandoned = false;
  const slow = defineCase<null>('R7-slow', 'never ends', 'general', async (_c, x) => {
    await pause(60_000, x.signal).catch(() => void (abandoned = true));
  });
  const run = await runCases({ side: 'vtn', transport: 'http-pull', peer: 'x', tool: 'test', cases: [slow], context: null, slot: { current: createTape() }, caseTimeoutMs: 50 });
  t.assert.equal(run.cases[0]?.outcome, 'failed');
  t.assert.match(run.cases[0]?.findings[0]?.message ?? '', /did not finish within 50 ms/);
  t.assert.equal(abandoned, true);
});

test('the exchange checks apply to every recorded exchange, also of a passing case', async (t) => {
  const slot = { current: createTape() };
  const talk = defineCase<null>('R45-talks', 'records', 'general', async () => {
    slot.current.add({ at: 0, direction: 'received', channel: 'http', headers: {}, body: '<x schemaLocation="y"/>' });
  });
  const check = (e: Exchange, i: number): Finding[] => (e.body.includes('schemaLocation') ? [{ ruleIds: ['R45'], message: 'schemaLocation', exchange: i }] : []);
  const run = await runCases({ side: 'vtn', transport: 'http-pull', peer: 'x', tool: 'test', cases: [talk], context: null, slot, checks: [check] });
  t.assert.equal(run.cases[0]?.outcome, 'failed');
  t.assert.deepEqual(run.cases[0]?.findings, [{ ruleIds: ['R45'], message: 'schemaLocation', exchange: 0 }]);
});

test('--only selects by id, id prefix or rule id; rule ids come from the id', (t) => {
  const c = { id: 'R402+R403-pull-registration', ruleIds: ruleIdsOf('R402+R403-pull-registration') };
  t.assert.deepEqual(c.ruleIds, ['R402', 'R403']);
  t.assert.deepEqual(ruleIdsOf('§9.1.9.2+§9.1.9.3-gzip'), ['§9.1.9.2', '§9.1.9.3']);
  t.assert.equal(selected(c, ['R403']), true);
  t.assert.equal(selected(c, ['R402+R403-pull']), true);
  t.assert.equal(selected(c, ['R40']), false, 'R40 is not R402');
  t.assert.equal(selected(c, ['R402']), true);
  t.assert.equal(selected(c, undefined), true);
  t.assert.equal(progressLine(5, 10, 'R4-x', 1), '[ 5/10 ##########----------] 1 failed  R4-x');
});
