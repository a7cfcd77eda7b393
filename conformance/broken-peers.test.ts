import { test, type TestContext } from 'node:test';
import type { RunResult } from './case.ts';
import { startRewritingProxy, type Rewrites } from './testing/rewriting-proxy.ts';
import {
  venCancellingEventOpts,
  venCancellingWithForeignVenId,
  venEventOptWithAvailability,
  venNeverSendingCreatedEvent,
  venOptDroppingResources,
  venOptingOnNeverEvents,
  venOptOpenEndedAsOneHour,
  venOptTargetWithoutVenId,
  venOptWindowsWithNotification,
  venPollingFasterThanAsked,
  venReportingIntervalsOutOfOrder,
  vtnAnsweringReportsWithoutUpdatedReport,
  vtnOmittingPendingEvents,
  vtnReusingModificationNumbers,
  vtnWithWrongSignalUnit,
} from './testing/broken-peers.ts';
import { OUR_MARKET_CONTEXT, ourVenAdapter, PATIENT, startOurVen, startOurVtn } from './testing/our-peers.ts';
import type { Ven, VenOptions } from '../ven/index.ts';
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
async function againstVen(t: T, rewrites: Rewrites, only: readonly string[], brokenVen: Partial<VenOptions> = {}): Promise<{ broken: RunResult; sound: RunResult }> {
  const run = async (r: Rewrites, waitMs: number, venOptions: Partial<VenOptions> = {}): Promise<RunResult> => {
    let proxy: Awaited<ReturnType<typeof startRewritingProxy>> | undefined;
    let ven: Ven | undefined;
    const suite = await startVenSuite({
      listen: { host: '127.0.0.1', port: 0 },
      transport: 'http-pull',
      marketContext: OUR_MARKET_CONTEXT,
      only,
      waitMs,
      caseTimeoutMs: PATIENT.caseTimeoutMs,
      adapter: ourVenAdapter(() => ven),
      onListening: async (url) => {
        proxy = await startRewritingProxy(url, r);
        ven = await startOurVen(t, proxy.url, 'http-pull', venOptions);
      },
    });
    try {
      return await suite.run();
    } finally {
      await proxy?.close();
      await suite.close();
    }
  };
  return { broken: await run(rewrites, 4000, brokenVen), sound: await run({}, PATIENT.waitMs) };
}

/** Several faults at once: the first rewrite that changes a request (or answers it) wins; every answer goes through all. */
function combine(...all: readonly Rewrites[]): Rewrites {
  return {
    request: (p) => {
      let cur = p;
      for (const r of all) {
        const out = r.request?.(cur);
        if (out === undefined) continue;
        if ('answer' in out || 'before' in out) return out;
        cur = out;
      }
      return cur === p ? undefined : cur;
    },
    response: (p, request) => {
      let cur = p;
      for (const r of all) cur = r.response?.(cur, request) ?? cur;
      return cur === p ? undefined : cur;
    },
  };
}

/** Each case named fails with a finding on its rule; the same cases pass without the faults. */
function assertEachCaught(t: T, r: { broken: RunResult; sound: RunResult }, want: Readonly<Record<string, string>>): void {
  for (const [id, rule] of Object.entries(want)) {
    const c = r.broken.cases.find((x) => x.id === id);
    t.assert.ok(c?.outcome === 'failed' && c.findings.some((f) => f.ruleIds.includes(rule)), `${id} did not fail on ${rule}: ${JSON.stringify(c === undefined ? 'not run' : [c.outcome, c.findings.map((f) => f.message), c.reason])}`);
  }
  t.assert.equal(r.sound.cases.length, Object.keys(want).length);
  t.assert.deepEqual(r.sound.cases.filter((c) => c.outcome !== 'passed').map((c) => `${c.id}: ${c.findings.map((f) => `${f.message} (${f.actual ?? ''})`).join('; ')}`), []);
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

test('R200+R202+R206+R208+R210 a VEN whose opts break the EiOpt rules fails each opt case on its rule', async (t) => {
  const want = {
    'R200+R204+R208-availability-schedule': 'R200',
    'R210-open-ended-schedule': 'R210',
    'R202-resource-schedule': 'R202',
    'R206+R510-event-opt': 'R206',
    'R204+R211-cancel-schedule': 'R208',
  };
  const broken = combine(venOptWindowsWithNotification, venOptOpenEndedAsOneHour, venOptDroppingResources, venEventOptWithAvailability, venCancellingWithForeignVenId);
  const r = await againstVen(t, broken, Object.keys(want));
  assertEachCaught(t, r, want);
  const noVenId = await againstVen(t, venOptTargetWithoutVenId, ['R200+R204+R208-availability-schedule']);
  assertEachCaught(t, noVenId, { 'R200+R204+R208-availability-schedule': 'R208' });
});

test('R206+R211 a VEN that opts on an event marked never, and cancels an event opt, fails R206 and R211', async (t) => {
  const want = { 'R206-no-opt-after-never': 'R206', 'R211-event-opt-not-cancelled': 'R211' };
  assertEachCaught(t, await againstVen(t, combine(venOptingOnNeverEvents(), venCancellingEventOpts()), Object.keys(want)), want);
});

test('R500+§9.1.8 a VEN that polls faster than the VTN asks fails R500', async (t) => {
  assertEachCaught(t, await againstVen(t, venPollingFasterThanAsked, ['R500+§9.1.8-poll-frequency']), { 'R500+§9.1.8-poll-frequency': 'R500' });
});

test('§9.1.7 a VEN that retries a 503 after 20 ms fails §9.1.7', async (t) => {
  assertEachCaught(t, await againstVen(t, {}, ['§9.1.7-back-off'], { backoff: { initialMs: 20, capMs: 200 } }), { '§9.1.7-back-off': '§9.1.7' });
});
