import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import type { RunResult } from './case.ts';
import { runConformanceCommand } from './cli.ts';
import { PATIENT, startOurVtn, startOurXmppVen, startOurXmppVtn, startXmppVenRig } from './testing/our-peers.ts';

const PATIENT_FLAGS = ['--case-timeout', String(PATIENT.caseTimeoutMs), '--delivery-timeout', String(PATIENT.deliveryTimeoutMs)];

interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(argv: string[], env: Record<string, string> = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void): Writable => new Writable({ write: (c: Buffer, _e, cb) => void (append(c.toString('utf8')), cb()) });
  const code = await runConformanceCommand(argv, { stdout: sink((s) => void (stdout += s)), stderr: sink((s) => void (stderr += s)), stdin: new PassThrough(), env, tool: 'oadr-ledger test' });
  return { code, stdout, stderr };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('help: the usage names both sides, the adapters and the hook contract', async (t) => {
  const r = await cli(['--help']);
  t.assert.equal(r.code, 0);
  for (const s of ['conformance vtn --url URL', 'conformance ven --listen HOST:PORT', '--hook', 'OADR_VEN_ID', 'OADR_START', 'issue-event', 'opt-schedule', 'OADR_OPT_TYPE', '--admin-url', '--interactive', '--json FILE']) t.assert.match(r.stdout, new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
});

test('usage errors exit 2 and say what to give instead', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['bogus'], /unknown side 'bogus'/],
    [['vtn'], /needs --url URL/],
    [['vtn', '--url', 'ftp://x'], /give an http:\/\/ or https:\/\/ URL/],
    [['vtn', '--transport', 'xmpp'], /needs --xmpp-url xmpp:\/\/HOST:5222/],
    [['vtn', '--transport', 'xmpp', '--xmpp-url', 'xmpp://127.0.0.1:1', '--ven-jid', 'suite@localhost'], /needs --vtn-jid JID/],
    [['vtn', '--transport', 'xmpp', '--xmpp-url', 'xmpp://127.0.0.1:1', '--vtn-jid', 'vtn@localhost/vtn'], /needs --ven-jid local@domain/],
    [['vtn', '--transport', 'xmpp', '--xmpp-url', 'xmpp://127.0.0.1:1', '--ven-jid', 'suite@localhost', '--vtn-jid', 'vtn@localhost/vtn'], /--cert and --key \(SASL EXTERNAL\) or a password in OADR_XMPP_PASSWORD/],
    [['vtn', '--transport', 'xmpp', '--xmpp-url', 'http://127.0.0.1:1', '--ven-jid', 'suite@localhost', '--vtn-jid', 'vtn@localhost/vtn', '--cert', 'a.pem', '--key', 'b.pem'], /must start with xmpp:\/\/|a\.pem/],
    [['vtn', '--transport', 'xmpp', '--url', 'http://127.0.0.1:1', '--vtn-jid', 'vtn@localhost/vtn'], /--url: not with --transport xmpp/],
    [['vtn', '--transport', 'carrier-pigeon', '--url', 'http://127.0.0.1:1'], /give http-pull, http-push or xmpp/],
    [['vtn', '--url', 'http://127.0.0.1:1', '--hook', 'x', '--interactive'], /give one adapter/],
    [['vtn', '--url', 'http://127.0.0.1:1', '--admin-url', 'http://127.0.0.1:1/api/v1'], /needs --admin-token/],
    [['vtn', '--url', 'http://127.0.0.1:1', '--cert', 'a.pem'], /all of --cert, --key and --ca/],
    [['vtn', '--url', 'http://127.0.0.1:1', '--bogus'], /Unknown option '--bogus'/],
    [['vtn', '--url', 'http://127.0.0.1:1', '--expired-cert', 'a.pem'], /both --expired-cert and --expired-key/],
    [['vtn', '--url', 'http://127.0.0.1:1', '--admin-url', 'https://127.0.0.1:1/api/v1', '--admin-token', 'x', '--admin-cert', 'a.pem'], /both --admin-cert and --admin-key/],
    [['vtn', '--url', 'http://127.0.0.1:1', '--admin-cert', 'a.pem', '--admin-key', 'b.pem'], /go with --admin-url/],
    [['vtn', '--url', 'http://127.0.0.1:1', '--xml-signature'], /signs with --cert and --key/],
    [['ven'], /needs --listen HOST:PORT/],
    [['ven', '--listen', 'nowhere'], /give HOST:PORT/],
    [['ven', '--transport', 'xmpp', '--xmpp-url', 'xmpp://127.0.0.1:1'], /needs --vtn-jid local@domain/],
    [['ven', '--transport', 'xmpp', '--xmpp-url', 'xmpp://127.0.0.1:1', '--vtn-jid', 'vtn@localhost', '--listen', '127.0.0.1:0'], /--listen: not with --transport xmpp/],
    [['ven', '--listen', '127.0.0.1:0', '--admin-url', 'http://127.0.0.1:1/api/v1'], /--admin-url drives a VTN/],
    [['ven', '--listen', '127.0.0.1:0', '--hook', 'x', '--interactive'], /give one adapter/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(argv);
    t.assert.equal(r.code, 2, argv.join(' '));
    t.assert.match(r.stderr, message, argv.join(' '));
  }
});

test('a run against our VTN through its admin API: summary on stdout, progress on stderr, the run as JSON, exit 0', async (t) => {
  const { url } = await startOurVtn(t);
  const file = join(tempDir(t), 'run.json');
  const r = await cli(['vtn', '--url', url, ...PATIENT_FLAGS, '--admin-url', `${url}/api/v1`, '--only', 'R4,R40', '--only', 'R10', '--json', file], { OADR_ADMIN_TOKEN: 'conformance-operator-token-0123456789' });
  t.assert.equal(r.code, 0, r.stdout + r.stderr);
  t.assert.match(r.stdout, /3 cases: 3 passed, 0 failed/);
  t.assert.match(r.stderr, /\[3\/3 #{20}\] 0 failed/);
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
  t.assert.deepEqual(run.cases.map((c) => c.id), ['R40+R41-request-event', 'R4-new-event-modification-0', 'R10+R5-cancel']);
  t.assert.equal(run.tool, 'oadr-ledger test');
  t.assert.equal((run.cases[1]?.exchanges.length ?? 0) > 0, true);
});

test('over XMPP against our VTN (Prosody, SASL EXTERNAL): the suite logs in as --ven-jid and talks to --vtn-jid, exit 0', async (t: TestContext) => {
  const { url, rig, vtnJid } = await startOurXmppVtn(t);
  const dir = tempDir(t);
  const cred = await rig.pki.client('cli-suite');
  writeFileSync(join(dir, 'cert.pem'), cred.certificatePem);
  writeFileSync(join(dir, 'key.pem'), cred.privateKeyPem);
  writeFileSync(join(dir, 'ca.pem'), rig.pki.caPem);
  const file = join(dir, 'run.json');
  const xmpp = ['--transport', 'xmpp', '--xmpp-url', rig.prosody.url, '--ven-jid', 'cli-suite@localhost/cli', '--vtn-jid', vtnJid, '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'), '--ca', join(dir, 'ca.pem')];
  const r = await cli(['vtn', ...xmpp, ...PATIENT_FLAGS, '--admin-url', `${url}/api/v1`, '--only', 'R38,§9.3.4.6-ping,R10+R5-cancel,R500-empty-queue', '--json', file], { OADR_ADMIN_TOKEN: 'conformance-operator-token-0123456789' });
  t.assert.equal(r.code, 0, r.stdout + r.stderr);
  t.assert.match(r.stdout, /VTN at xmpp:vtn@localhost\/vtn over xmpp/);
  t.assert.match(r.stdout, /4 cases: 3 passed, 0 failed, 1 skipped/);
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
  t.assert.deepEqual(run.cases.map((c) => [c.id, c.outcome]), [['R10+R5-cancel', 'passed'], ['R500-empty-queue', 'skipped'], ['R38+R507-xmpp-registration', 'passed'], ['§9.3.4.6-ping', 'passed']]);
  t.assert.ok(run.cases[0]?.exchanges.some((e) => e.channel === 'xmpp' && e.url === `xmpp:${vtnJid}`));
});

test('the VEN side over XMPP: the suite logs in as --vtn-jid, says which JID to give the VEN, and runs the cases against it', async (t: TestContext) => {
  const { rig } = await startXmppVenRig(t);
  const dir = tempDir(t);
  const cred = await rig.pki.client('cli-vtn');
  writeFileSync(join(dir, 'cert.pem'), cred.certificatePem);
  writeFileSync(join(dir, 'key.pem'), cred.privateKeyPem);
  writeFileSync(join(dir, 'ca.pem'), rig.pki.caPem);
  let stdout = '';
  let stderr = '';
  let started: Promise<unknown> | undefined;
  const err = new Writable({
    write: (c: Buffer, _e, cb) => {
      stderr += c.toString('utf8');
      // The VEN under test is started once the suite says where its VTN is, as an operator would.
      const jid = /the VTN at (\S+): start the VEN under test with this VTN JID/.exec(stderr)?.[1];
      if (jid !== undefined && started === undefined) started = startOurXmppVen(t, rig, jid, 'cli-ven');
      cb();
    },
  });
  const out = new Writable({ write: (c: Buffer, _e, cb) => void ((stdout += c.toString('utf8')), cb()) });
  const xmpp = ['--transport', 'xmpp', '--xmpp-url', rig.prosody.url, '--vtn-jid', 'cli-vtn@localhost', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'), '--ca', join(dir, 'ca.pem')];
  const code = await runConformanceCommand(['ven', ...xmpp, '--case-timeout', String(PATIENT.caseTimeoutMs), '--wait', String(PATIENT.waitMs), '--only', '§9.3.4.1+R507-ven-registers-its-jid,§9.3.4.6-ven-ping,R500-drains-queue'], { stdout: out, stderr: err, stdin: new PassThrough(), env: {}, tool: 'oadr-ledger test' });
  await started;
  t.assert.equal(code, 0, stdout + stderr);
  t.assert.match(stderr, /The suite is the VTN at cli-vtn@localhost\/vtn/);
  t.assert.match(stdout, /VEN at xmpp:cli-vtn@localhost\/vtn over xmpp/);
  t.assert.match(stdout, /3 cases: 2 passed, 0 failed, 1 skipped/);
});

test('--expected-fail: a listed case that fails is expected-fail and the run exits 0; one that passes is unexpected-pass and exits 1', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'expected.json');
  // A peer that refuses every request: the query case fails, as the list says it will.
  writeFileSync(file, JSON.stringify([{ id: 'R511-query-registration', reason: 'nothing listens there' }]));
  const down = await cli(['vtn', '--url', 'http://127.0.0.1:1', '--only', 'R511-query-registration', '--expected-fail', file]);
  t.assert.equal(down.code, 0, down.stdout);
  t.assert.match(down.stdout, /R511-query-registration +R511 +expected-fail/);
  const { url } = await startOurVtn(t);
  const up = await cli(['vtn', '--url', url, '--only', 'R511-query-registration', '--expected-fail', file]);
  t.assert.equal(up.code, 1);
  t.assert.match(up.stdout, /R511-query-registration +R511 +unexpected-pass +passed, but listed as an expected failure: nothing listens there/);
  writeFileSync(file, '[{"id": "R1"}]');
  const bad = await cli(['vtn', '--url', url, '--expected-fail', file]);
  t.assert.equal(bad.code, 2);
  t.assert.match(bad.stderr, /give a JSON list of \{"id"/);
});

test('without an adapter the cases that need one are skipped, and a run where nothing ran exits 1', async (t) => {
  const { url } = await startOurVtn(t);
  const r = await cli(['vtn', '--url', url, '--only', 'R5+R115-modify']);
  t.assert.equal(r.code, 1);
  t.assert.match(r.stdout, /R5\+R115-modify +R5\+R115 +skipped +needs the VTN to issue event: give an adapter/);
});

test('the hook adapter drives the VTN: a script calling our admin API issues and cancels the events', async (t) => {
  const { url } = await startOurVtn(t);
  const dir = tempDir(t);
  const script = join(dir, 'hook.mjs');
  writeFileSync(
    script,
    `const [action] = process.argv.slice(2);
const e = process.env;
const base = '${url}/api/v1';
const call = async (method, path, body) => {
  const res = await fetch(base + path, { method, headers: { authorization: 'Bearer conformance-operator-token-0123456789', 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  if (!res.ok) { process.stderr.write(await res.text()); process.exit(3); }
};
if (action === 'issue-event') await call('POST', '/events', { eventId: e.OADR_EVENT_ID, start: e.OADR_START, durationMinutes: Number(e.OADR_DURATION_MINUTES), perVenReductionW: { [e.OADR_VEN_ID]: e.OADR_VALUES.split(',').map(Number) } });
else if (action === 'cancel-event') await call('POST', '/events/' + e.OADR_EVENT_ID + '/cancel');
else { process.stderr.write('unsupported ' + action); process.exit(4); }
`,
  );
  const file = join(dir, 'run.json');
  const r = await cli(['vtn', '--url', url, ...PATIENT_FLAGS, '--hook', `node ${script} {action} {venId}`, '--only', 'R10+R5-cancel,R8+R102-durations-add-up,R407-cancel-by-vtn', '--json', file]);
  t.assert.equal(r.code, 1);
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
  t.assert.deepEqual(run.cases.map((c) => [c.id, c.outcome]), [['R407-cancel-by-vtn', 'failed'], ['R10+R5-cancel', 'passed'], ['R8+R102-durations-add-up', 'passed']]);
  t.assert.match(run.cases[0]?.findings[0]?.message ?? '', /^the hook adapter could not cancel-registration: the hook 'node .*' exited with 4: unsupported cancel-registration$/);
});
