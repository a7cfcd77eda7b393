/**
 * The conformance suite over XMPP (§9.3) against our own VTN through a real Prosody: every case
 * passes or is skipped for a reason an XMPP run has; and the VEN side against our VEN.
 */
import { test, type TestContext } from 'node:test';
import { exitCodeOf, tally, type RunResult } from './case.ts';
import { payloadChecks } from './checker.ts';
import { renderSummary } from './report/index.ts';
import { OUR_MARKET_CONTEXT, ourVenAdapter, PATIENT, startOurXmppVen, startOurXmppVtn, startXmppVenRig } from './testing/our-peers.ts';
import { startVenSuite } from './ven-suite.ts';
import { venCases } from './cases/ven-cases.ts';
import { venXmppCases } from './cases/ven-xmpp.ts';
import type { Ven } from '../ven/index.ts';
import { runVtnSuite } from './vtn-suite.ts';
import { vtnCases } from './cases/vtn-cases.ts';

const explain = (run: RunResult): string =>
  `${renderSummary(run)}\n${run.cases
    .filter((c) => c.outcome === 'failed' || c.outcome === 'unexpected-pass')
    .map((c) => `${c.id}: ${c.findings.map((f) => f.message).join('; ')}`)
    .join('\n')}`;

test('the whole VTN side against our VTN over XMPP (Prosody): every case passes or is skipped with its reason', async (t: TestContext) => {
  const { url, adapter, vtnJid, suite } = await startOurXmppVtn(t);
  const run = await runVtnSuite({ url, transport: 'xmpp', adapter, xmpp: { client: suite, vtnJid }, deliveryTimeoutMs: PATIENT.deliveryTimeoutMs, caseTimeoutMs: PATIENT.caseTimeoutMs, checks: payloadChecks });
  const counts = tally(run);
  t.assert.equal(counts.failed + counts['unexpected-pass'], 0, explain(run));
  t.assert.equal(exitCodeOf(run), 0);
  // Every case is listed: those of HTTP as skipped with the reason.
  t.assert.equal(run.cases.length, vtnCases.length);
  t.assert.match(run.cases.find((c) => c.id === 'R500-empty-queue')?.reason ?? '', /R507/);
  // Skipped only for what an XMPP run with one JID against our VTN cannot check.
  for (const c of run.cases.filter((x) => x.outcome === 'skipped')) t.assert.match(c.reason ?? '', /XMPP|R507|HTTP|one JID|offers no report|no SIMPLE/, `${c.id} skipped: ${c.reason ?? ''}`);
  for (const c of run.cases.filter((x) => x.outcome !== 'skipped')) t.assert.ok(c.exchanges.every((e) => e.channel === 'xmpp') && c.exchanges.length > 0, `${c.id}: every exchange over XMPP`);
  const xmppCases = run.cases.filter((c) => c.id.startsWith('§9.3') || c.id.startsWith('R507') || c.id.startsWith('R38'));
  t.assert.ok(xmppCases.length >= 12 && xmppCases.every((c) => c.outcome === 'passed'), xmppCases.map((c) => `${c.id} ${c.outcome}`).join(', '));
});

test('the whole VEN side against our VEN over XMPP (Prosody): every case passes or is skipped with its reason', async (t: TestContext) => {
  const { rig, suite: client } = await startXmppVenRig(t);
  let ven: Ven | undefined;
  const suite = await startVenSuite({
    transport: 'xmpp',
    xmpp: { client },
    marketContext: OUR_MARKET_CONTEXT,
    waitMs: PATIENT.waitMs,
    caseTimeoutMs: PATIENT.caseTimeoutMs,
    checks: payloadChecks,
    adapter: ourVenAdapter(() => ven),
    onListening: async (url) => void (ven = await startOurXmppVen(t, rig, url.replace(/^xmpp:/, ''))),
  });
  t.after(() => suite.close());
  const run = await suite.run();
  const counts = tally(run);
  t.assert.equal(counts.failed + counts['unexpected-pass'], 0, explain(run));
  t.assert.equal(run.cases.length, venCases.length);
  for (const c of run.cases.filter((x) => x.outcome === 'skipped')) t.assert.match(c.reason ?? '', /XMPP|R507/, `${c.id} skipped: ${c.reason ?? ''}`);
  const xmppCases = run.cases.filter((c) => c.transport === 'xmpp' && venXmppCases.some((x) => x.id === c.id));
  t.assert.ok(xmppCases.length === venXmppCases.length && xmppCases.every((c) => c.outcome === 'passed'), xmppCases.map((c) => `${c.id} ${c.outcome}`).join(', '));
});
