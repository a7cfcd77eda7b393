import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readConfigFile } from './config-file.ts';

const BIN = fileURLToPath(new URL('./oadr-ledger.js', import.meta.url));

function file(t: { after(fn: () => void): void }, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'oadr-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('a --config file: YAML by its name (1.2 core schema: yes is a string), JSON otherwise, a mapping at the top', (t) => {
  const yaml = file(t, 'vtn.yaml', 'port: 8443\nregistrationPolicy: enrolled-only\ninsecureHttp: yes\nprograms:\n  - id: winter\n    priority: 2\nxmpp:\n  url: xmpp://xmpp.example\n');
  assert.deepEqual(readConfigFile(yaml), { port: 8443, registrationPolicy: 'enrolled-only', insecureHttp: 'yes', programs: [{ id: 'winter', priority: 2 }], xmpp: { url: 'xmpp://xmpp.example' } });
  assert.deepEqual(readConfigFile(file(t, 'vtn.YML', 'port: 1\n')), { port: 1 });
  assert.deepEqual(readConfigFile(file(t, 'vtn.json', '{"port": 2}')), { port: 2 });
  assert.throws(() => readConfigFile(file(t, 'dup.yaml', 'port: 1\nport: 2\n')), /Map keys must be unique/);
  assert.throws(() => readConfigFile(file(t, 'list.yml', '- port: 1\n')), /top level must be a mapping/);
  assert.throws(() => readConfigFile(file(t, 'bad.yaml', 'port: [1\n')), /Flow sequence|Missing|Unexpected/);
  assert.throws(() => readConfigFile(file(t, 'yaml-but-json.json', 'port: 1\n')), SyntaxError, 'a .json name is read as JSON');
});

test('oadr-ledger vtn --config FILE.yaml: the settings are validated like the JSON ones (exit 2 naming the key)', (t) => {
  const yaml = file(t, 'vtn.yaml', 'dataDir: ":memory:"\ninsecureHttp: yes\n');
  const r = spawnSync(process.execPath, [BIN, 'vtn', '--config', yaml], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /insecureHttp must be true or false, got "yes"/);
  const broken = file(t, 'broken.yaml', 'port: [1\n');
  const b = spawnSync(process.execPath, [BIN, 'vtn', '--config', broken], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(b.status, 2);
  assert.match(b.stderr, /cannot read the configuration .*broken\.yaml/);
});
