import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createHookAdapter, hookEnvironment } from './hook.ts';
import { createInteractiveAdapter, instruction } from './interactive.ts';

test('the hook gets the action and venID in its command (quoted), the order as JSON on stdin and in OADR_* variables', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-hook-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'out.txt');
  const hook = createHookAdapter({ template: `printf '%s|%s|%s\\n' {action} {venId} "$OADR_VALUES" > ${out}; cat >> ${out}`, env: { PATH: process.env.PATH } });
  await hook.perform('issue-event', { venId: "ven 'odd'", eventId: 'e1', startMs: Date.UTC(2030, 0, 1, 12), durationMinutes: 30, values: [1, 2] });
  const [line, json] = readFileSync(out, 'utf8').split('\n');
  t.assert.equal(line, "issue-event|ven 'odd'|1,2");
  t.assert.deepEqual(JSON.parse(json ?? ''), { action: 'issue-event', venId: "ven 'odd'", eventId: 'e1', startMs: Date.UTC(2030, 0, 1, 12), durationMinutes: 30, values: [1, 2], start: '2030-01-01T12:00:00.000Z' });
  t.assert.deepEqual(hookEnvironment('cancel-event', { venId: 'v', eventId: 'e' }), { OADR_ACTION: 'cancel-event', OADR_VEN_ID: 'v', OADR_EVENT_ID: 'e' });
});

test('a hook that fails rejects with its exit code and stderr', async (t) => {
  const hook = createHookAdapter({ template: 'echo nope >&2; exit 7', env: { PATH: process.env.PATH } });
  await t.assert.rejects(hook.perform('request-report', { venId: 'v' }), /exited with 7: nope/);
});

test('interactive: tells the operator what to do and resolves on Enter; no Enter in time rejects', async (t) => {
  const input = new PassThrough();
  let said = '';
  const output = new PassThrough();
  output.on('data', (c: Buffer) => void (said += c.toString('utf8')));
  const adapter = createInteractiveAdapter({ input, output, timeoutMs: 60_000 });
  const done = adapter.perform('cancel-event', { venId: 'ven-1', eventId: 'ev-9' });
  input.write('\n');
  await done;
  t.assert.match(said, /Operator: cancel event 'ev-9' of VEN ven-1; then press Enter/);
  const silent = createInteractiveAdapter({ input: new PassThrough(), output: new PassThrough(), timeoutMs: 20 });
  await t.assert.rejects(silent.perform('request-report', { venId: 'v' }), /did not confirm within/);
  t.assert.match(instruction('issue-event', { venId: 'v', startMs: Date.UTC(2030, 0, 1), durationMinutes: 15, values: [5], priority: 1 }), /issue an event to VEN v: start 2030-01-01T00:00:00.000Z, 15 minutes, values 5, priority 1/);
});

test('VEN side: the hook gets the opt fields (OADR_OPT_TYPE, OADR_OPT_ID, OADR_RESOURCE_ID, {optId}); the operator is told what the VEN must send', async (t) => {
  t.assert.deepEqual(hookEnvironment('opt-schedule', { venId: 'v', optType: 'optOut', optId: 'o1', resourceId: 'r1', startMs: Date.UTC(2030, 0, 1), durationMinutes: 0 }), {
    OADR_ACTION: 'opt-schedule',
    OADR_VEN_ID: 'v',
    OADR_OPT_TYPE: 'optOut',
    OADR_OPT_ID: 'o1',
    OADR_RESOURCE_ID: 'r1',
    OADR_START: '2030-01-01T00:00:00.000Z',
    OADR_DURATION_MINUTES: '0',
  });
  const dir = mkdtempSync(join(tmpdir(), 'conformance-hook-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'out.txt');
  await createHookAdapter<'cancel-opt'>({ template: `printf '%s|%s' {action} {optId} > ${out}`, env: { PATH: process.env.PATH } }).perform('cancel-opt', { venId: 'v', optId: "o 'x'" });
  t.assert.equal(readFileSync(out, 'utf8'), "cancel-opt|o 'x'");
  t.assert.match(instruction('opt-schedule', { venId: 'v', optType: 'optOut', startMs: Date.UTC(2030, 0, 1), durationMinutes: 0, resourceId: 'r1' }), /make VEN v send an optOut availability schedule .* from 2030-01-01T00:00:00.000Z, open-ended, for its resource r1 only/);
  t.assert.match(instruction('opt-event', { venId: 'v', eventId: 'e1', optType: 'optOut' }), /make VEN v send optOut for event 'e1'/);
});
