import { test, type TestContext } from 'node:test';
import type { RunResult } from './case.ts';
import { startRewritingProxy, type Rewrites } from './testing/rewriting-proxy.ts';
import {
  venNeverSendingCreatedEvent,
  venReportingIntervalsOutOfOrder,
  vtnAnsweringReportsWithoutUpdatedReport,
  vtnOmittingPendingEvents,
  vtnReusingModificationNumbers,
  vtnWithWrongSignalUnit,
} from './testing/broken-peers.ts';
import { OUR_MARKET_CONTEXT, PATIENT, startOurVen, startOurVtn } from './testing/our-peers.ts';
import { startVenSuite } from './ven-suite.ts';
import { runVtnSuite } from './vtn-suite.ts';

type T = TestContext;

/** Runs `only` against our VTN behind the proxy, with and without the fault. */
async function againstVtn(t: T, rewrites: Rewrites, only: readonly string[]): Promise<{ broken: RunResult; sound: RunResult }> {
  const { url, adapter } = await startOurVtn(t);
  // The broken peer's silence is waited for briefly (that is its fault); the sound one patiently.
  const run = async (r: Rewrites, deliveryTimeoutMs: number): Promise<RunResult> => {
    const proxy = await startRewritingProxy(url, r);
    try {
      return await runVtnSuite({ url: proxy.url, transport: 'http-pull', adapter, only, deliveryTimeoutMs, caseTimeoutMs: PATIENT.caseTimeoutMs });
    } finally {
      await proxy.close();
    }
  };
  return { broken: await run(rewrites, 4000), sound: await run({}, PATIENT.deliveryTimeoutMs) };
}

/** Runs `only` against our VEN talking to the suite through the proxy, with and without the fault. */
async function againstVen(t: T, rewrites: Rewrites, only: readonly string[]): Promise<{ broken: RunResult; sound: RunResult }> {
  const run = async (r: Rewrites, waitMs: number): Promise<RunResult> => {
    let proxy: Awaited<ReturnType<typeof startRewritingProxy>> | undefined;
    const suite = await startVenSuite({
      listen: { host: '127.0.0.1', port: 0 },
      transport: 'http-pull',
      marketContext: OUR_MARKET_CONTEXT,
      only,
      waitMs,
      caseTimeoutMs: PATIENT.caseTimeoutMs,
      onListening: async (url) => {
        proxy = await startRewritingProxy(url, r);
        await startOurVen(t, proxy.url, 'http-pull');
      },
    });
    try {
      return await suite.run();
    } finally {
      await proxy?.close();
      await suite.close();
    }
  };
  return { broken: await run(rewrites, 4000), sound: await run({}, PATIENT.waitMs) };
}

/** The fault fails a case of `rule`; the same cases pass without it. */
function assertCaught(t: T, r: { broken: RunResult; sound: RunResult }, rule: string): void {
  const failed = r.broken.cases.filter((c) => c.outcome === 'failed');
  t.assert.ok(failed.some((c) => c.ruleIds.includes(rule) && c.findings.some((f) => f.ruleIds.includes(rule))), `no case failed on ${rule}: ${JSON.stringify(r.broken.cases.map((c) => [c.id, c.outcome, c.findings.map((f) => f.message)]))}`);
  t.assert.ok(r.sound.cases.length > 0);
  t.assert.deepEqual(r.sound.cases.filter((c) => c.outcome !== 'passed').map((c) => `${c.id}: ${c.findings.map((f) => f.message).join('; ')}`), []);
}

test('R5 a VTN that reuses modificationNumbers fails the modification and cancellation cases on R5', async (t) => {
  assertCaught(t, await againstVtn(t, vtnReusingModificationNumbers, ['R5+R115-modify', 'R10+R5-cancel']), 'R5');
});

test('R50 a VTN that omits pending events fails R50', async (t) => {
  assertCaught(t, await againstVtn(t, vtnOmittingPendingEvents, ['R50-all-pending-events']), 'R50');
});

test('R104 a VTN with LOAD_DISPATCH in energy units fails R104', async (t) => {
  assertCaught(t, await againstVtn(t, vtnWithWrongSignalUnit, ['R104-signal-table']), 'R104');
});

test('§8.3.2 a VTN that answers oadrUpdateReport without oadrUpdatedReport fails §8.3.2', async (t) => {
  assertCaught(t, await againstVtn(t, vtnAnsweringReportsWithoutUpdatedReport, ['§8.3.2+R303-updated-report']), '§8.3.2');
});

test('R12 a VEN that never sends oadrCreatedEvent fails R12', async (t) => {
  assertCaught(t, await againstVen(t, venNeverSendingCreatedEvent, ['R56+R12+R42+R35-new-event', 'R62-unchanged-event-answered-again']), 'R12');
});

test('R314 a VEN that reports intervals out of order fails R314', async (t) => {
  assertCaught(t, await againstVen(t, venReportingIntervalsOutOfOrder, ['R314+R316+R342-interval-order']), 'R314');
});
