import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createEmbeddedLedger } from './embedded-ledger.ts';
import { loadOrCreateOrgs } from './orgs.ts';
import { tempDataDir } from '../testing/embedded.ts';
import { verifyLedger } from './verify.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';

const CHILD = fileURLToPath(new URL('../testing/crash-child.ts', import.meta.url));
const ROUNDS = 5;

/** Starts the child, waits until it has acknowledged at least `minAcks` more transactions, then kills it after a random pause. */
async function runAndKill(dataDir: string, ackFile: string, round: number, minAcks: number): Promise<void> {
  const child = spawn(process.execPath, [CHILD, dataDir, ackFile, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let alive = true;
  child.on('exit', () => (alive = false));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${stderr}`)));
  });
  const acks = () => (existsSync(ackFile) ? readFileSync(ackFile, 'utf8').split('\n').length : 0);
  const target = acks() + minAcks;
  while (acks() < target) {
    if (!alive) throw new Error(`child exited while submitting: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
  child.kill('SIGKILL');
  await exited;
}

test(`crash safety: SIGKILL at random points (${ROUNDS} rounds) loses no acknowledged transaction and leaves no partial block`, { timeout: 180_000 }, async (t) => {
  const dataDir = tempDataDir();
  const ackFile = join(dataDir, 'acks.txt');
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  let lastHeight = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    await runAndKill(dataDir, ackFile, round, 20 + Math.floor(Math.random() * 60));
    // A kill may cut the last line short: only whole ids count as acknowledged.
    const acked = readFileSync(ackFile, 'utf8').split('\n').filter((l) => /^[0-9a-f]{64}$/.test(l));
    const report = await verifyLedger(dataDir);
    assert.deepEqual(report.problems, [], `round ${round}: the chain verifies`);
    const orgs = await loadOrCreateOrgs(join(dataDir, 'certs'), { createCa: createTestCa });
    const ledger = await createEmbeddedLedger({ dataDir, orgs });
    try {
      for (const txId of acked) assert.equal((await ledger.transaction(txId)).validationCode, 'VALID', `round ${round}: ${txId} acknowledged but missing`);
      const height = await ledger.height();
      assert.ok(height > lastHeight, `round ${round}: the ledger grew (${lastHeight} → ${height})`);
      lastHeight = height;
    } finally {
      await ledger.close();
    }
  }
});
