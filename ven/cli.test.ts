/** `oadr-ledger ven`: flags, the loopback-only plain-HTTP rule, the device config (usage and configuration errors exit 2), and a run with the simulated site. */
import { test, type TestContext } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVenCommand, VEN_USAGE } from './cli.ts';
import { createScriptedVtn } from './testing/scripted-vtn.ts';

const quiet = { info() {}, warn() {}, debug() {} };

test('ven CLI: --help prints the usage; missing flags exit 2', async (t: TestContext) => {
  let out = '';
  let err = '';
  t.assert.equal(await runVenCommand(['--help'], { stdout: (s) => (out += s) }), 0);
  t.assert.equal(out, VEN_USAGE);
  t.assert.equal(await runVenCommand(['--ven-name', 'x'], { stderr: (s) => (err += s) }), 2);
  t.assert.match(err, /--vtn-url and --ven-name are required/);
});

test('ven CLI: a --vtn-url without a scheme (127.0.0.1:8080, localhost:8080) says what a VTN URL looks like, exit 2', async (t: TestContext) => {
  for (const url of ['127.0.0.1:8080', 'localhost:8080', 'ftp://127.0.0.1/']) {
    let err = '';
    t.assert.equal(await runVenCommand(['--vtn-url', url, '--ven-name', 'x'], { stderr: (s) => (err += s), log: quiet }), 2, url);
    t.assert.match(err, new RegExp(`--vtn-url ${url.replace(/[./]/g, '\\$&')} is not an http\\(s\\) URL: give the VTN's base URL with its scheme, e\\.g\\. https://vtn\\.example\\.com:8080/ \\(a VTN started with --insecure-http: http://127\\.0\\.0\\.1:8080/\\)`), url);
  }
});

test('§9.2 ven CLI: plain HTTP to a non-loopback VTN is refused; an unknown device too', async (t: TestContext) => {
  let err = '';
  t.assert.equal(await runVenCommand(['--vtn-url', 'http://vtn.example.com/', '--ven-name', 'x'], { stderr: (s) => (err += s), log: quiet }), 2);
  t.assert.match(err, /INVALID_CONFIG: plain HTTP to vtn\.example\.com is refused/);
  err = '';
  t.assert.equal(await runVenCommand(['--vtn-url', 'http://127.0.0.1:1/', '--ven-name', 'x', '--device', 'serial:/dev/tty'], { stderr: (s) => (err += s), log: quiet }), 2);
  t.assert.match(err, /--device serial:\/dev\/tty/);
});

test('ven CLI: --device sim-battery registers with the VTN, sends metadata, and stops on abort', async (t: TestContext) => {
  const vtn = await createScriptedVtn({ pollFreq: 'PT60S' });
  const dir = mkdtempSync(join(tmpdir(), 'ven-cli-'));
  t.after(async () => {
    await vtn.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ac = new AbortController();
  let out = '';
  const run = runVenCommand(['--vtn-url', vtn.url, '--ven-name', 'cli-ven', '--data-dir', dir], { signal: ac.signal, stdout: (s) => (out += s), log: quiet });
  await vtn.waitFor(() => vtn.of('RegisterReport').length >= 1 && vtn.of('Poll').length >= 1);
  ac.abort();
  t.assert.equal(await run, 0);
  t.assert.match(out, /VEN cli-ven started against .* \(HTTP pull\)/);
  t.assert.equal(vtn.of('CreatePartyRegistration')[0]?.venName, 'cli-ven');
});

test('ven CLI: a sim-site load profile that is not one value or equal slots of a day, and an unknown MQTT metering, exit 2 with what to give', async (t: TestContext) => {
  const dir = mkdtempSync(join(tmpdir(), 'ven-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (device: string, config: object): Promise<[number, string]> => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify(config));
    let err = '';
    const code = await runVenCommand(['--vtn-url', 'http://127.0.0.1:1/', '--ven-name', 'x', '--device', device, '--config', file, '--data-dir', dir], { stderr: (s) => (err += s), log: quiet });
    return [code, err];
  };
  const [c1, e1] = await run('sim-site', { site: { loadW: [1, 2, 3, 4, 5, 6, 7] } });
  t.assert.equal(c1, 2);
  t.assert.match(e1, /INVALID_CONFIG: site\.loadW has 7 values; give one W value, or one per equal slot of a day/);
  const [c2, e2] = await run('mqtt://127.0.0.1:1', { metering: 'meter' });
  t.assert.equal(c2, 2);
  t.assert.match(e2, /INVALID_CONFIG: metering "meter": use "site"/);
});
