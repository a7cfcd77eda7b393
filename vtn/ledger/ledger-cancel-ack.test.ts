/**
 * A cancellation's acknowledgement is not an opt: the VEN answers the cancelled event with
 * oadrCreatedEvent (R36) and the VTN records the acknowledgement, sends nothing to the ledger (whose
 * contract refuses opt answers to a cancelled event), and logs no error. End to end over HTTP with
 * the embedded ledger.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_DAY } from '../../chaincode/testing/reference-scenario.ts';
import type { LedgerEventView } from '../services/event-service.ts';
import { startLedgerVtn } from '../testing/ledger-vtn.ts';
import { call, drain, recordingLogger, registerVen, ven } from '../testing/fake-ven.ts';
import { until } from '../../test/support/until.ts';

const A = 'smartmeter:A';
/** 17:00 in Rome (CEST) on the event day. */
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);

test('interop 4: the oadrCreatedEvent answering a cancellation is an acknowledgement (R36), not an opt: nothing refused on the ledger, no error logged', async (t) => {
  const logger = recordingLogger();
  const { clock, ledger: vl, url, vtn } = await startLedgerVtn(t, { prefix: 'oadr-vtn-cancel-ack-', start: Date.parse(`${EVENT_DAY}T12:00:00Z`), customerId: A, logger });
  const a = await registerVen(url, A);
  const created = (await vtn.events.create({ eventId: 'ev-c', start: START, slots: 2, reductionW: 100, targets: 'all' })) as LedgerEventView;
  t.assert.equal(created.event.modificationNumber, 0);
  await drain(url, a.venId);
  t.assert.equal((await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'ev-c', modificationNumber: 0, optType: 'optIn' }]), 'Response')).response.code, 200);
  const opts = async () => (JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryEventOpts', ['ev-c'])) as { opts: Array<{ meterId: string; optType: string }> }).opts;
  await until('the opt-in on the ledger', async () => (await opts()).length === 1);

  vtn.events.cancel('ev-c');
  await vtn.events.ledgerIdle();
  const cancelled = await drain(url, a.venId);
  const mod = cancelled.find((p) => p.type === 'DistributeEvent')?.type === 'DistributeEvent' ? vtn.events.get('ev-c')?.event.modificationNumber : undefined;
  assert.ok(mod !== undefined && mod > 0, 'the cancellation reached the VEN');
  const height = await vl.ledger.height();
  // The VEN acknowledges the cancellation, as VENs do, with an oadrCreatedEvent (optIn).
  t.assert.equal((await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'ev-c', modificationNumber: mod, optType: 'optIn' }]), 'Response')).response.code, 200);
  await vtn.events.ledgerIdle();
  await new Promise((r) => setTimeout(r, 50));
  t.assert.equal(vtn.events.get('ev-c')?.vens[0]?.cancelAcked, true, 'acknowledged');
  t.assert.equal(await vl.ledger.height(), height, 'no transaction for the acknowledgement');
  t.assert.deepEqual((await opts()).map((o) => [o.meterId, o.optType]), [[A, 'optIn']]);
  t.assert.deepEqual(logger.records.filter((r) => r.level === 'error' || r.level === 'fatal').map((r) => r.msg), []);
});
