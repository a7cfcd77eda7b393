import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configFromEnv, envName, EnvConfigError, secretFromEnv, VTN_ENV_SETTINGS } from './env-config.ts';

test('OADR_* variables are the settings in UPPER_SNAKE case', () => {
  assert.equal(envName('port'), 'OADR_PORT');
  assert.equal(envName('registrationPolicy'), 'OADR_REGISTRATION_POLICY');
  assert.equal(envName('insecureHttp'), 'OADR_INSECURE_HTTP');
});

test('typed values from the environment; unknown and empty variables ignored', () => {
  const env = { OADR_PORT: '8443', OADR_DATA_DIR: '/var/lib/oadr', OADR_INSECURE_HTTP: 'true', OADR_REGISTRATION_POLICY: 'open', OADR_SOMETHING: 'x', OADR_ADMIN_PORT: '' };
  assert.deepEqual(configFromEnv(env, VTN_ENV_SETTINGS), { dataDir: '/var/lib/oadr', registrationPolicy: 'open', port: 8443, insecureHttp: true });
});

test('push settings from OADR_PUSH_* variables: nested keys, the allowed hosts as a comma-separated list', () => {
  assert.equal(envName('push.allowedHosts'), 'OADR_PUSH_ALLOWED_HOSTS');
  const env = { OADR_PUSH_ALLOW_HTTP: 'false', OADR_PUSH_ALLOWED_HOSTS: 'ven-lab.local, 10.0.0.7', OADR_PUSH_MAX_ATTEMPTS: '5', OADR_TLS_HANDSHAKE_TIMEOUT_MS: '5000', OADR_OPERATIONS_ACCESS: 'token' };
  assert.deepEqual(configFromEnv(env, VTN_ENV_SETTINGS), {
    tlsHandshakeTimeoutMs: 5000,
    operationsAccess: 'token',
    push: { allowHttp: false, allowedHosts: ['ven-lab.local', '10.0.0.7'], maxAttempts: 5 },
  });
});

test('a malformed value names its variable', () => {
  assert.throws(() => configFromEnv({ OADR_PORT: 'eighty' }, VTN_ENV_SETTINGS), (e: unknown) => e instanceof EnvConfigError && /OADR_PORT/.test(e.message));
  assert.throws(() => configFromEnv({ OADR_INSECURE_HTTP: 'yes' }, VTN_ENV_SETTINGS), /OADR_INSECURE_HTTP must be true or false/);
});

test('a secret comes from NAME_FILE before NAME', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oadr-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'token');
  writeFileSync(file, 's3cret\n');
  assert.equal(secretFromEnv({ OADR_ADMIN_TOKEN_FILE: file, OADR_ADMIN_TOKEN: 'other' }, 'OADR_ADMIN_TOKEN'), 's3cret');
  assert.equal(secretFromEnv({ OADR_ADMIN_TOKEN: 'plain' }, 'OADR_ADMIN_TOKEN'), 'plain');
  assert.equal(secretFromEnv({}, 'OADR_ADMIN_TOKEN'), undefined);
  assert.throws(() => secretFromEnv({ OADR_ADMIN_TOKEN_FILE: join(dir, 'missing') }, 'OADR_ADMIN_TOKEN'), /OADR_ADMIN_TOKEN_FILE: cannot read/);
});

test('the ledger from OADR_LEDGER and the fabric section from OADR_FABRIC_* variables', () => {
  const env = { OADR_LEDGER: 'fabric', OADR_FABRIC_PROFILE: '/etc/oadr/connection-org1.yaml', OADR_FABRIC_IDENTITY: '/etc/oadr/vtn-msp', OADR_FABRIC_RETAILERS: '/etc/oadr/retailers', OADR_FABRIC_CHANNEL: 'drchannel', OADR_FABRIC_WAIT_FOR_COMMIT: 'true', OADR_FABRIC_RETRY_ATTEMPTS: '3' };
  assert.deepEqual(configFromEnv(env, VTN_ENV_SETTINGS), {
    ledger: 'fabric',
    fabric: { profile: '/etc/oadr/connection-org1.yaml', identity: '/etc/oadr/vtn-msp', retailers: '/etc/oadr/retailers', channel: 'drchannel', waitForCommit: true, retryAttempts: 3 },
  });
});
