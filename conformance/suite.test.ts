import { test } from 'node:test';
import { exitCodeOf, tally, type RunResult } from './case.ts';
import { OUR_MARKET_CONTEXT, ourVenAdapter, PATIENT, startOurVen, startOurVtn } from './testing/our-peers.ts';
import type { Ven } from '../ven/index.ts';
import { startVenSuite } from './ven-suite.ts';
import { runVtnSuite } from './vtn-suite.ts';
import { vtnCases } from './cases/vtn-cases.ts';
import { venCases } from './cases/ven-cases.ts';
import { renderSummary } from './report/index.ts';
import { payloadChecks } from './checker.ts';

/** What a failing run printed: the summary and each failure's findings. */
const explain = (run: RunResult): string =>
  `${renderSummary(run)}\n${run.cases
    .filter((c) => c.outcome === 'failed' || c.outcome === 'unexpected-pass')
    .map((c) => `${c.id}: ${c.findings.map((f) => f.message).join('; ')}`)
    .join('\n')}`;

/** Every case ran and passed, or was skipped for a reason a run over plain HTTP on loopback has. */
function assertClean(t: import('node:test').TestContext, run: RunResult): void {
  const counts = tally(run);
  t.assert.equal(counts.failed + counts['unexpected-pass'], 0, explain(run));
  t.assert.equal(exitCodeOf(run), 0);
  for (const c of run.cases.filter((x) => x.outcome === 'skipped')) t.assert.match(c.reason ?? '', /plain HTTP|client certificate|--xml-signature|offers no report|no SIMPLE|VEN registered for push/, `${c.id} skipped: ${c.reason ?? ''}`);
  // The VTN side talks in every case it runs (the VEN side may judge what the VEN sent before).
  if (run.side === 'vtn') for (const c of run.cases) t.assert.ok(c.exchanges.length > 0 || c.outcome === 'skipped', `${c.id} exchanged nothing`);
}

test('case ids start with their rule ids, are unique, and the two sides cover at least 100 rules and scenarios', () => {
  const all = [...vtnCases.map((c) => `vtn:${c.id}`), ...venCases.map((c) => `ven:${c.id}`)];
  if (new Set(all).size !== all.length) throw new Error(`repeated case ids: ${all.filter((id, i) => all.indexOf(id) !== i).join(', ')}`);
  if (all.length < 100) throw new Error(`only ${all.length} cases`);
  for (const c of [...vtnCases, ...venCases]) {
    if (c.ruleIds.length === 0 || !c.ruleIds.every((r) => /^(R\d+|§[\d.]+)$/.test(r))) throw new Error(`${c.id}: rule ids ${c.ruleIds.join(', ')}`);
  }
});

for (const transport of ['http-pull', 'http-push'] as const) {
  test(`the whole VTN side against our VTN over ${transport}: every case passes or is skipped for want of TLS`, async (t) => {
    const { url, adapter } = await startOurVtn(t);
    const run = await runVtnSuite({ url, transport, adapter, deliveryTimeoutMs: PATIENT.deliveryTimeoutMs, caseTimeoutMs: PATIENT.caseTimeoutMs, checks: payloadChecks });
    t.assert.equal(run.cases.length >= 90, true, `${run.cases.length} cases`);
    assertClean(t, run);
  });

  test(`the whole VEN side against our VEN over ${transport}: every case passes`, async (t) => {
    let ven: Ven | undefined;
    const suite = await startVenSuite({
      listen: { host: '127.0.0.1', port: 0 },
      transport,
      marketContext: OUR_MARKET_CONTEXT,
      waitMs: PATIENT.waitMs,
      caseTimeoutMs: PATIENT.caseTimeoutMs,
      checks: payloadChecks,
      adapter: ourVenAdapter(() => ven),
      onListening: async (url) => void (ven = await startOurVen(t, url, transport)),
    });
    t.after(() => suite.close());
    const run = await suite.run();
    t.assert.equal(run.cases.length >= 40, true, `${run.cases.length} cases`);
    assertClean(t, run);
  });
}
