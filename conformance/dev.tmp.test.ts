import { test } from 'node:test';
import { startTestVtn } from '../vtn/testing/fake-ven.ts';
import { runVtnSuite } from './vtn-suite.ts';
import { createAdminAdapter } from './adapters/admin.ts';
import { summaryTable } from './summary.ts';
for (const transport of ['http-pull', 'http-push'] as const) {
  test(`dev ${transport}`, async (t) => {
    const { url } = await startTestVtn(t, {}, { clock: { now: Date.now, set() {}, advance() {} }, adminToken: 'tok-conformance-123456' });
    const run = await runVtnSuite({ url, transport, adapter: createAdminAdapter({ url: `${url}/api/v1`, token: 'tok-conformance-123456' }), only: process.env.ONLY?.split(',') });
    console.log(summaryTable(run));
    for (const c of run.cases) if (c.outcome === 'failed') console.log(c.id, JSON.stringify(c.findings), c.exchanges.slice(-4).map((e) => `${e.direction} ${e.status ?? e.url} ${e.body.slice(0, 600)}`).join('\n'));
  });
}
