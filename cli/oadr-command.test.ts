import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validateXsd } from '../conformance/index.ts';
import { decodeOadr } from '../oadr/index.ts';

const BIN = fileURLToPath(new URL('./oadr-ledger.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('oadr-ledger --help lists the subcommands, exit 0', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const c of ['oadr', 'vtn', 'ven', 'ledger', 'certs']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
});

test('unknown command and missing arguments exit 2; a bare `oadr` is help (exit 0)', () => {
  assert.equal(run(['frobnicate']).status, 2);
  assert.equal(run(['oadr']).status, 0);
  assert.equal(run(['oadr', 'decode']).status, 2);
  assert.equal(run(['oadr', 'decode', '/nonexistent/file.xml']).status, 2);
});

test('decode then encode turns a message written by another implementation into an XSD-valid message with the same content', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oadr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of ['foreign-jaxb-oadrUpdateReport.xml', 'foreign-openleadr-oadrDistributeEvent.xml', 'foreign-default-ns-oadrCreatedPartyRegistration.xml']) {
    const original = readFileSync(join(FIXTURES, 'oadr', name));
    const decoded = run(['oadr', 'decode', join(FIXTURES, 'oadr', name)]);
    assert.equal(decoded.status, 0, decoded.stderr);
    const jsonFile = join(dir, `${name}.json`);
    writeFileSync(jsonFile, decoded.stdout);
    const encoded = run(['oadr', 'encode', jsonFile]);
    assert.equal(encoded.status, 0, encoded.stderr);
    const xsd = await validateXsd(encoded.stdout);
    assert.deepEqual(xsd.errors, [], `${name} re-encoded must validate`);
    assert.deepEqual(decodeOadr(encoded.stdout), decodeOadr(original), `${name}: same content`);
  }
});

test('validate: 0 for a valid message, 1 with the XSD error and the typed error for an invalid one', () => {
  const ok = run(['oadr', 'validate', join(FIXTURES, 'oadr', 'oadrDistributeEvent-load-dispatch-48.xml')]);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^valid DistributeEvent/m);
  const bad = run(['oadr', 'validate', '-'], readFileSync(join(FIXTURES, 'oadr', 'oadrPoll.xml'), 'utf8').replace(/<(\w+:)?venID>/, '<$1venId>').replace(/<\/(\w+:)?venID>/, '</$1venId>'));
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /^XSD: /m);
  assert.match(bad.stdout, /SCHEMA_VIOLATION \(transport error, HTTP 406\)/);
});

test('R8 validate reports interval durations that do not add up, with the answer code 454', () => {
  const xml = readFileSync(join(FIXTURES, 'oadr', 'oadrDistributeEvent-load-dispatch-48.xml'), 'utf8');
  const shortened = xml.replace(/PT15M/, 'PT14M');
  assert.notEqual(shortened, xml);
  const r = run(['oadr', 'validate', '-'], shortened);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^R8 error \(answer 454\)/m);
});

test('decode of malformed input exits 1 and says what is wrong', () => {
  const r = run(['oadr', 'decode', '-'], '<oadrPayload><unclosed></oadrPayload>');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /MALFORMED_XML/);
  const big = run(['oadr', 'decode', '--max-bytes', '10', '-'], '<a>0123456789</a>');
  assert.equal(big.status, 1);
  assert.match(big.stderr, /TOO_LARGE \(transport error, HTTP 413\)/);
});
