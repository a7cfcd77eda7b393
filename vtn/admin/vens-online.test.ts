/**
 * `GET /api/v1/vens` as the dashboard's fleet page reads it: how each VEN is reached and whether it
 * is online — heard from within three poll intervals (`pollFrequencyMs`).
 */
import { test } from 'node:test';
import { registerVen, startTestVtn } from '../testing/fake-ven.ts';

const TOKEN = 'test-operator-token-0123456789';

test('a VEN is online while it polls, offline after three poll intervals without a word; its transport is named', async (t) => {
  const { url, clock } = await startTestVtn(t, { pollFrequencyMs: 10_000 }, { adminToken: TOKEN });
  const { venId } = await registerVen(url, 'house-1');
  const vens = async () => (await (await fetch(`${url}/api/v1/vens`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Array<{ venId: string; transport: string; online: boolean; lastContactAt: number }>;
  const [v] = await vens();
  t.assert.deepEqual([v?.venId, v?.transport, v?.online, v?.lastContactAt], [venId, 'http-pull', true, clock.now()]);
  clock.advance(30_000);
  t.assert.equal((await vens())[0]?.online, true, 'three poll intervals: still online');
  clock.advance(1);
  t.assert.equal((await vens())[0]?.online, false, 'past three poll intervals: offline');
});
