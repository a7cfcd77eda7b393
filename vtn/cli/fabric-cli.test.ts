/**
 * `oadr-ledger vtn --ledger fabric`: the command reads a connection profile and MSP folders, talks to
 * the Gateway service over gRPC + TLS, and the admin API's ledger views work on it (blocks through
 * qscc; verify answers 501 with what to check on Fabric); a wrong profile or identity stops the
 * start with exit 2 and names what to fix.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { addDaysUtc, profile } from '../../chaincode/testing/reference-scenario.ts';
import { runVtnCommand } from './cli.ts';
import { startVtnCommand } from '../testing/vtn-command.ts';
import { startFabricVtnRig, type FabricVtnRig } from '../testing/fabric-vtn.ts';
import { recordingLogger } from '../testing/fake-ven.ts';

const TOKEN = 'fabric-cli-test-operator-token-0123456789';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-fabric-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const fabricFlags = (rig: FabricVtnRig): string[] => ['--ledger', 'fabric', '--fabric-profile', rig.profile, '--fabric-identity', rig.identity, '--fabric-retailers', rig.retailers];

test('vtn --ledger fabric: serves with the ledger behind the gateway; customers, history import (through two endorsement mismatches, retried), blocks; verify says what to check on Fabric; /metrics counts the retries', async (t) => {
  const dir = tempDir(t);
  const rig = await startFabricVtnRig(t, dir, Date.now, { proxy: true });
  const vtn = await startVtnCommand(['--insecure-http', '--data-dir', join(dir, 'data'), '--port', '0', ...fabricFlags(rig)], { adminToken: TOKEN });
  t.after(() => vtn.stop());
  const { url, log } = vtn;
  assert.ok(log.records.some((r) => r.msg === 'Fabric ledger connected'), 'the Fabric connector is used');
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const before = await rig.gateway.embedded.ledger.height();
  t.assert.equal((await api('POST', '/customers', { customerId: 'smartmeter:F1' })).status, 201);
  const today = new Date().toISOString().slice(0, 10);
  const days = Array.from({ length: 3 }, (_, i) => ({ date: addDaysUtc(today, -(i + 2)), valuesWh: profile(1, i + 1).map((w) => w / 4) }));
  // The peers disagree twice on a recordEnergy (one had not committed the previous block): retried.
  rig.proxy?.failEndorsements('recordEnergy', 2);
  const imported = await api('POST', '/customers/smartmeter:F1/energy', { days });
  t.assert.equal(imported.status, 200, JSON.stringify(imported.body));
  assert.ok((await rig.gateway.embedded.ledger.height()) > before, 'the history is on the served ledger');
  const blocks = await api('GET', '/ledger/blocks?limit=2');
  t.assert.equal(blocks.status, 200);
  t.assert.equal((blocks.body as unknown as unknown[]).length, 2);
  const verify = await api('POST', '/ledger/verify');
  t.assert.equal(verify.status, 501);
  t.assert.match(verify.type, /application\/problem\+json/);
  t.assert.match(String(verify.body.detail), /peer channel getinfo/);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.assert.match(metrics, /# TYPE oadr_vtn_ledger_retries_total counter/);
  t.assert.match(metrics, /^oadr_vtn_ledger_retries_total\{function="recordEnergy",reason="ENDORSEMENT_MISMATCH"\} 2$/m);
  assert.ok(log.records.some((r) => r.level === 'warn' && r.fn === 'recordEnergy' && r.reason === 'ENDORSEMENT_MISMATCH'), 'each retry is logged');
});

test('vtn --ledger fabric: a missing profile flag, a profile without a TLS CA, an MSP folder that is not there, a missing default retailer: exit 2 naming what to fix', async (t) => {
  const dir = tempDir(t);
  const rig = await startFabricVtnRig(t, dir, Date.now);
  const run = async (args: string[]): Promise<{ code: number; err: string }> => {
    let err = '';
    const code = await runVtnCommand(['--insecure-http', '--data-dir', join(dir, 'data'), '--port', '0', ...args], { stderr: (s) => void (err += s), logger: recordingLogger() });
    return { code, err };
  };
  let r = await run(['--ledger', 'fabric', '--fabric-identity', rig.identity]);
  t.assert.deepEqual([r.code, /fabric\.profile is required/.test(r.err)], [2, true], r.err);
  r = await run(['--ledger', 'fabrik']);
  t.assert.deepEqual([r.code, /ledger must be one of embedded, fabric/.test(r.err)], [2, true], r.err);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, JSON.stringify({ name: 'n', organizations: { Org1: { mspid: 'Org1MSP', peers: ['p0'] } }, peers: { p0: { url: 'grpcs://127.0.0.1:1' } } }));
  r = await run(['--ledger', 'fabric', '--fabric-profile', broken, '--fabric-identity', rig.identity]);
  t.assert.deepEqual([r.code, /peers\.p0\.tlsCACerts is missing/.test(r.err)], [2, true], r.err);
  r = await run(['--ledger', 'fabric', '--fabric-profile', rig.profile, '--fabric-identity', join(dir, 'nowhere')]);
  t.assert.deepEqual([r.code, /MSP folder .*nowhere does not exist/.test(r.err)], [2, true], r.err);
  r = await run(['--ledger', 'fabric', '--fabric-profile', rig.profile, '--fabric-identity', rig.identity, '--fabric-retailers', join(dir, 'no-retailers')]);
  t.assert.deepEqual([r.code, /retailer vtn has no ledger identity/.test(r.err)], [2, true], r.err);
});
