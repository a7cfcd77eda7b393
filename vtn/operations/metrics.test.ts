import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LedgerPort } from '../ledger/port.ts';
import { createVtnMetrics, instrumentFetch, instrumentLedger, LEDGER_LATENCY_BUCKETS, METRIC } from './metrics.ts';

test('metrics: the text exposition has HELP and TYPE lines, labelled counters and gauges', () => {
  const m = createVtnMetrics();
  m.poll(false);
  m.poll(false);
  m.poll(true);
  m.payload('in', 'Poll');
  m.payload('out', 'DistributeEvent');
  m.httpStatus(200);
  m.httpStatus(406);
  m.httpStatus(200);
  const text = m.render({ queueDepth: 7, registeredVens: 3, ledgerOutboxDepth: 5 });
  assert.ok(text.endsWith('\n'));
  assert.ok(text.includes(`# TYPE ${METRIC.polls} counter\n`));
  assert.ok(text.includes(`${METRIC.polls}{result="empty"} 2\n`));
  assert.ok(text.includes(`${METRIC.polls}{result="payload"} 1\n`));
  assert.ok(text.includes(`${METRIC.payloads}{direction="in",type="Poll"} 1\n`));
  assert.ok(text.includes(`${METRIC.payloads}{direction="out",type="DistributeEvent"} 1\n`));
  assert.ok(text.includes(`${METRIC.queueDepth} 7\n`));
  assert.ok(text.includes(`${METRIC.registeredVens} 3\n`));
  assert.ok(text.includes(`${METRIC.ledgerOutboxDepth} 5\n`));
  assert.ok(text.includes(`${METRIC.httpResponses}{code="200"} 2\n`));
  assert.ok(text.includes(`${METRIC.httpResponses}{code="406"} 1\n`));
  // Every sample line is `name{labels} value` or `name value`.
  for (const line of text.trim().split('\n')) if (!line.startsWith('#')) assert.match(line, /^[a-z_]+(\{[^}]*\})? [0-9.eE+-]+$|NaN$/, line);
});

test('metrics: ledger calls fill a cumulative histogram per method, failures counted; absent optional methods stay absent', async () => {
  const m = createVtnMetrics();
  let t = 0;
  const port: LedgerPort = {
    notifyEvent: async () => new Map(),
    recordOpt: async () => void (t += 3), // 3 ms
    recordTelemetry: async () => {
      t += 700; // 0.7 s
      throw new Error('down');
    },
  };
  const timed = instrumentLedger(port, m, () => t);
  await timed.recordOpt({ eventId: 'e', modificationNumber: 0, venId: 'v', customerId: 'c', optType: 'optIn', at: 0 });
  await assert.rejects(timed.recordTelemetry([]), /down/);
  assert.equal(timed.importEnergy, undefined);
  assert.equal(timed.ping, undefined);
  const text = m.render({ queueDepth: 0, registeredVens: 0, ledgerOutboxDepth: 0 });
  const name = METRIC.ledgerCallSeconds;
  assert.ok(text.includes(`${name}_bucket{method="recordOpt",le="0.0025"} 0\n`));
  assert.ok(text.includes(`${name}_bucket{method="recordOpt",le="0.005"} 1\n`));
  assert.ok(text.includes(`${name}_bucket{method="recordOpt",le="10"} 1\n`));
  assert.ok(text.includes(`${name}_bucket{method="recordOpt",le="+Inf"} 1\n`));
  assert.ok(text.includes(`${name}_count{method="recordTelemetry"} 1\n`));
  assert.ok(text.includes(`${name}_bucket{method="recordTelemetry",le="0.5"} 0\n`));
  assert.ok(text.includes(`${name}_bucket{method="recordTelemetry",le="1"} 1\n`));
  assert.ok(text.includes(`${METRIC.ledgerCallErrors}{method="recordTelemetry"} 1\n`));
  assert.ok(text.includes(`${METRIC.ledgerCallErrors}{method="recordOpt"} 0\n`));
  assert.equal(LEDGER_LATENCY_BUCKETS.length, text.split('\n').filter((l) => l.startsWith(`${name}_bucket{method="recordOpt"`)).length - 1);
});

test('metrics: failed pushes (network error or non-200) are counted by the instrumented fetch', async () => {
  const m = createVtnMetrics();
  const answers = [new Response('', { status: 200 }), new Response('', { status: 503 })];
  const f = instrumentFetch(async () => {
    const r = answers.shift();
    if (r === undefined) throw new TypeError('fetch failed');
    return r;
  }, m);
  await f('http://x/');
  await f('http://x/');
  await assert.rejects(f('http://x/'));
  assert.ok(m.render({ queueDepth: 0, registeredVens: 0, ledgerOutboxDepth: 0 }).includes(`${METRIC.pushFailures} 2\n`));
});
