import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { encodeOadr, type Payload } from '../oadr/index.ts';
import { call, drain, post, postXml, recordingLogger, registerVen, startTestVtn, ven } from './testing/fake-ven.ts';

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const metadata = (venId: string): Payload => ven.telemetryMetadata(venId);

const updateReport = (venId: string, reportRequestId: string): Payload => ({
  type: 'UpdateReport',
  schemaVersion: '2.0b',
  requestId: 'rq-u',
  venId,
  reports: [
    {
      dtstart: '2030-01-15T12:00:00.000Z',
      duration: 'PT15M',
      intervals: [{ dtstart: '2030-01-15T12:00:00.000Z', duration: 'PT15M', payloads: [{ rId: 'usage', value: { type: 'float', value: 1234 } }] }],
      reportRequestId,
      reportSpecifierId: 'rs-1',
      reportName: 'TELEMETRY_USAGE',
      createdDateTime: '2030-01-15T12:15:00.000Z',
    },
  ],
});

test('bad input VTN: each bad request gets its specified answer, is logged once with the venID, and loses no stored data', async (t) => {
  const log = recordingLogger();
  const { url, vtn, clock } = await startTestVtn(t, { bodyLimitBytes: 8192, push: { initialBackoffMs: 10, maxBackoffMs: 20 } }, { logger: log });
  const a = await registerVen(url, 'ven-a');
  const down = await registerVen(url, 'ven-down', { pull: false, transportAddress: `http://127.0.0.1:${await closedPort()}/` });
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + 3_600_000, slots: 2, perVenReductionW: { [a.venId]: 100, [down.venId]: 100 } });
  vtn.events.modify('ev-1', { perVenReductionW: { [a.venId]: 200 } });
  await drain(url, a.venId);
  const poll = encodeOadr(ven.poll(a.venId));
  log.records.length = 0;

  // Transport-level refusals.
  t.assert.equal((await postXml(url, 'OadrPoll', `<oadrPayload><ei:venID>${a.venId}</ei:venID>`)).status, 406, 'malformed XML');
  t.assert.equal((await postXml(url, 'OadrPoll', poll.replace('oadrPoll', 'oadrPol').replace('oadrPoll', 'oadrPol'))).status, 406, 'not a payload');
  t.assert.equal((await postXml(url, 'OadrPoll', poll, { 'content-type': 'application/json' })).status, 406, 'content type');
  t.assert.equal((await postXml(url, 'OadrPoll', `${poll}${' '.repeat(9000)}`)).status, 413, 'oversized');
  t.assert.equal((await postXml(url, 'OadrPoll', '<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>')).status, 406, 'DTD');
  // Application-level refusals.
  t.assert.equal((await call(url, 'OadrPoll', ven.poll('ven-unknown'), 'Response')).response.code, 463, 'unknown venID');
  t.assert.equal((await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'ev-1', modificationNumber: 0 }]), 'Response')).response.code, 450, 'old modificationNumber');
  // A duplicate report is not an error (R346), and is stored once.
  const rr = (await call(url, 'EiReport', metadata(a.venId), 'RegisteredReport')).reportRequests?.[0]?.reportRequestId ?? '';
  t.assert.equal((await call(url, 'EiReport', updateReport(a.venId, rr), 'UpdatedReport')).response.code, 200);
  t.assert.equal((await call(url, 'EiReport', updateReport(a.venId, rr), 'UpdatedReport')).response.code, 200);

  const refusals = log.records.filter((r) => r.level === 'warn' || (r.level === 'info' && typeof r.responseCode === 'number'));
  const fromHttp = refusals.filter((r) => r.component === 'vtn.http');
  t.assert.equal(fromHttp.length, 7, JSON.stringify(fromHttp));
  t.assert.equal(fromHttp.filter((r) => r.venId === a.venId).length, 3, 'malformed, schema-invalid and stale modificationNumber carry the venID');
  t.assert.equal(fromHttp.filter((r) => r.venId === 'ven-unknown').length, 1);

  // The push target that is down is retried without blocking anything.
  for (let i = 0; i < 200 && !log.records.some((r) => r.component === 'vtn.push' && r.venId === down.venId); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(log.records.some((r) => r.component === 'vtn.push' && r.venId === down.venId && r.level === 'warn'));

  // Nothing stored was lost and the server still answers.
  t.assert.equal(vtn.vens.list().length, 2);
  t.assert.equal(vtn.events.get('ev-1')?.event.modificationNumber, 1);
  t.assert.equal(vtn.store.listTelemetry(a.venId).length, 1);
  t.assert.equal(vtn.store.listTelemetryPoints(a.venId).length, 1);
  assert.ok(vtn.store.queueDepth(down.venId) >= 1);
  const d = await call(url, 'EiEvent', ven.requestEvent(a.venId), 'DistributeEvent');
  t.assert.equal(d.events?.[0]?.descriptor.modificationNumber, 1);
  t.assert.equal((await post(url, 'OadrPoll', ven.poll(a.venId))).status, 200);
});
