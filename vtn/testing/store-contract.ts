/**
 * One behaviour suite for every `VtnStore`: `storeContractSuite(name, place)` runs the same tests
 * against the node:sqlite store and the PostgreSQL store (vtn/store/store-contract.test.ts).
 * `place()` makes an empty place for a store (a directory, a database) and returns how to open a
 * store there; opening it twice gives two handles on the same data (a restart, or two processes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VtnEvent, EventVenState } from '../services/event-model.ts';
import type { VenRegistration, VtnStore } from '../store/store.ts';

export type StorePlace = () => Promise<{ readonly open: () => VtnStore; readonly cleanup: () => Promise<void> }>;

export const registration = (venId: string, customerId: string, extra: Partial<VenRegistration> = {}): VenRegistration => ({
  venId, registrationId: `reg-${venId}`, customerId, venName: customerId, fingerprint: undefined, profileName: '2.0b', transportName: 'simpleHttp',
  transportAddress: undefined, httpPullModel: true, reportOnly: false, xmlSignature: false, registeredAt: 1, state: 'registered', reregistrationRequested: false, ...extra,
});

const event = (eventId: string, venIds: readonly string[]): VtnEvent => ({
  eventId, programId: 'p1', marketContext: 'http://mc', seq: 1, createdAt: 1, modificationNumber: 0, modifiedAt: 1, modificationReason: undefined, startMs: 1000,
  intervalsMs: [60_000], notificationMs: 0, rampUpMs: undefined, recoveryMs: undefined, startAfterMs: undefined, priority: 1, testEvent: false, vtnComment: undefined,
  responseRequired: 'always', signals: [], venIds, cancelled: false,
} as unknown as VtnEvent);

const venState = (eventId: string, venId: string, optType?: 'optIn' | 'optOut'): EventVenState => ({
  eventId, venId, values: {}, optType, optModificationNumber: optType === undefined ? undefined : 0, optAt: optType === undefined ? undefined : 5, optRequestId: undefined,
  cancelAcked: true, cancelDeliveries: 2, lastDeliveredAt: 9,
});

const point = (rr: string, value: number | undefined, extra: Record<string, unknown> = {}) => ({
  venId: 'v1', reportRequestId: rr, reportName: 'TELEMETRY_USAGE', rId: 'usage', startMs: 1000, durationMs: 60_000, value, unit: 'W', quality: undefined, status: undefined, receivedAt: 1, ...extra,
});

export interface StoreTraits {
  /** Several processes may open the store at once (PostgreSQL); the SQLite store has one process as its only writer. */
  readonly shared: boolean;
}

export function storeContractSuite(name: string, place: StorePlace, traits: Readonly<StoreTraits>): void {
  /** A store in a fresh place, closed and removed after the test. */
  const fresh = async (t: { after: (fn: () => unknown) => void }): Promise<{ store: VtnStore; open: () => VtnStore }> => {
    const p = await place();
    const opened: VtnStore[] = [];
    const open = (): VtnStore => {
      const s = p.open();
      opened.push(s);
      return s;
    };
    t.after(async () => {
      for (const s of opened) s.close();
      await p.cleanup();
    });
    return { store: open(), open };
  };

  test(`${name} store: a reopened store has the registrations, the FIFO queue and the opt schedules`, async (t) => {
    const { store: s1, open } = await fresh(t);
    s1.putCustomer({ customerId: 'c1', venName: 'n1', venId: undefined, fingerprint: undefined, enrolledAt: 1 });
    s1.putRegistration(registration('v1', 'c1'));
    s1.enqueue('v1', 'RequestReregistration', { type: 'RequestReregistration', schemaVersion: '2.0b', venId: 'v1' }, 5);
    s1.enqueue('v1', 'DistributeEvent', undefined, 6);
    s1.putOpt('v1', 'o1', { a: 1 }, 7);
    s1.close();
    const s2 = open();
    assert.equal(s2.findCustomerByVenName('n1')?.customerId, 'c1');
    assert.equal(s2.getRegistration('v1')?.registrationId, 'reg-v1');
    assert.equal(s2.findRegistrationIgnoringCase('V1')?.venId, 'v1');
    assert.deepEqual(s2.vensWithQueuedItems(), ['v1']);
    assert.equal(s2.shift('v1')?.kind, 'RequestReregistration');
    assert.equal(s2.shift('v1')?.payload, undefined);
    assert.equal(s2.shift('v1'), undefined);
    assert.deepEqual(s2.listOpts('v1'), [{ optId: 'o1', opt: { a: 1 }, at: 7 }]);
  });

  test(`R406+R407 ${name} store: erasing a VEN keeps or drops its registration; queue, opts and metadata go; its venID stays its customer's`, async (t) => {
    const { store: s } = await fresh(t);
    s.putRegistration(registration('v1', 'c1'));
    s.enqueue('v1', 'DistributeEvent', undefined, 1);
    s.putOpt('v1', 'o1', {}, 1);
    s.putReportMetadata('v1', [], 1);
    s.putEvent(event('e1', ['v1']));
    s.putEventVen(venState('e1', 'v1', 'optIn'));
    s.eraseVen('v1', { keepRegistration: true });
    assert.equal(s.queueDepth('v1'), 0);
    assert.equal(s.listOpts('v1').length, 0);
    assert.equal(s.getReportMetadata('v1'), undefined);
    assert.ok(s.getRegistration('v1') !== undefined);
    const reset = s.getEventVen('e1', 'v1');
    assert.deepEqual([reset?.optType, reset?.cancelAcked, reset?.cancelDeliveries, reset?.lastDeliveredAt], [undefined, false, 0, undefined], 'R406: per-event state reset');
    s.eraseVen('v1', { keepRegistration: false });
    assert.equal(s.getRegistration('v1'), undefined);
    assert.equal(s.getEventVen('e1', 'v1'), undefined, 'R407: nothing of the VEN kept');
    assert.equal(s.venIdOwner('v1'), 'c1', 'a venID is never given to another customer');
  });

  test(`${name} store: a failing transaction leaves nothing behind; a nested one joins the outer`, async (t) => {
    const { store: s } = await fresh(t);
    assert.throws(() =>
      s.transaction(() => {
        s.enqueue('v1', 'DistributeEvent', undefined, 1);
        s.transaction(() => s.putOpt('v1', 'o1', {}, 1));
        throw new Error('boom');
      }), /boom/);
    assert.equal(s.queueDepth('v1'), 0);
    assert.deepEqual(s.listOpts('v1'), []);
    assert.equal(s.transaction(() => s.transaction(() => (s.putOpt('v1', 'o2', {}, 1), 'done'))), 'done');
    assert.equal(s.listOpts('v1').length, 1);
  });

  test(`${name} store: the queue is FIFO per VEN; removing by kind and by seq; depths`, async (t) => {
    const { store: s } = await fresh(t);
    const a = s.enqueue('v1', 'DistributeEvent', undefined, 1);
    s.enqueue('v2', 'RequestReregistration', { type: 'RequestReregistration', schemaVersion: '2.0b', venId: 'v2' }, 2);
    const c = s.enqueue('v1', 'RequestReregistration', { type: 'RequestReregistration', schemaVersion: '2.0b', venId: 'v1' }, 3);
    assert.ok(c > a);
    assert.deepEqual([s.queueDepth('v1'), s.queueDepthTotal()], [2, 3]);
    assert.equal(s.peek('v1')?.seq, a);
    assert.equal(s.removeQueuedKind('v1', 'DistributeEvent'), 1);
    assert.deepEqual(s.peek('v1'), { seq: c, venId: 'v1', kind: 'RequestReregistration', payload: { type: 'RequestReregistration', schemaVersion: '2.0b', venId: 'v1' }, enqueuedAt: 3 });
    s.removeQueued(c);
    assert.deepEqual(s.vensWithQueuedItems(), ['v2']);
  });

  if (traits.shared) test(`${name} store: two handles on one store see each other's writes; a queue item is taken once`, async (t) => {
    const { store: a, open } = await fresh(t);
    const b = open();
    a.putRegistration(registration('v1', 'c1'));
    a.enqueue('v1', 'DistributeEvent', undefined, 1);
    assert.equal(b.getRegistration('v1')?.venId, 'v1');
    assert.equal(b.peek('v1')?.kind, 'DistributeEvent');
    assert.equal(b.shift('v1')?.kind, 'DistributeEvent');
    assert.equal(a.shift('v1'), undefined);
    assert.equal(a.peek('v1'), undefined);
  });

  test(`R346 ${name} store: a telemetry point is added, a duplicate, a correction or a conflict, whatever the report request`, async (t) => {
    const { store: s } = await fresh(t);
    assert.equal(s.insertTelemetryPoint(point('rr-1', 500)), 'added');
    assert.equal(s.insertTelemetryPoint(point('rr-2', 500)), 'duplicate');
    assert.equal(s.insertTelemetryPoint(point('rr-2', 600)), 'corrected');
    assert.equal(s.insertTelemetryPoint(point('rr-3', 600, { durationMs: 30_000 })), 'conflict');
    assert.equal(s.insertTelemetryPoint(point('rr-1', 700, { startMs: 500, rId: 'b' })), 'added');
    assert.deepEqual(s.listTelemetryPoints('v1').map((p) => [p.startMs, p.rId, p.value, p.reportRequestId]), [[500, 'b', 700, 'rr-1'], [1000, 'usage', 600, 'rr-2']]);
    assert.deepEqual(s.listTelemetryPoints('v1', 600, 2000).map((p) => p.startMs), [1000]);
  });

  test(`${name} store: ledger work queued again under its key gets a new seq; deleting the old seq leaves it`, async (t) => {
    const { store: s } = await fresh(t);
    s.putLedgerWork('k1', 'telemetry', { v: 1 }, 1);
    s.putLedgerWork('k2', 'opt', { v: 2 }, 2);
    const [first] = s.listLedgerWork(10);
    s.putLedgerWork('k1', 'telemetry', { v: 3 }, 3);
    s.deleteLedgerWork([first!.seq]);
    assert.deepEqual(s.listLedgerWork(10).map((w) => [w.key, w.data]), [['k2', { v: 2 }], ['k1', { v: 3 }]]);
    assert.equal(s.ledgerWorkDepth(), 2);
    s.deleteLedgerWork(s.listLedgerWork(10).map((w) => w.seq));
    assert.equal(s.ledgerWorkDepth(), 0);
  });

  test(`${name} store: a deleted admin token is remembered as revoked; lookups by hash`, async (t) => {
    const { store: s } = await fresh(t);
    s.putAdminToken({ tokenId: 't1', hash: 'h1', role: 'operator', name: 'a', createdAt: 1 });
    s.putAdminToken({ tokenId: 't2', hash: 'h2', role: 'read-only', name: 'b', createdAt: 2 });
    assert.equal(s.findAdminTokenByHash('h2')?.tokenId, 't2');
    assert.deepEqual(s.listAdminTokens().map((x) => x.tokenId), ['t1', 't2']);
    assert.equal(s.deleteAdminToken('t1'), true);
    assert.equal(s.deleteAdminToken('t1'), false);
    assert.equal(s.isAdminTokenRevoked('h1'), true);
    assert.equal(s.isAdminTokenRevoked('h2'), false);
  });

  test(`${name} store: customers by VEN name, venID and meter; registrations by customer, fingerprint and registrationID`, async (t) => {
    const { store: s } = await fresh(t);
    s.putCustomer({ customerId: 'c1', venName: 'n1', venId: 'v1', fingerprint: undefined, enrolledAt: 1, meterId: 'm1' });
    s.putCustomer({ customerId: 'c2', venName: 'n2', venId: undefined, fingerprint: undefined, enrolledAt: 1 });
    assert.equal(s.findCustomerByVenId('v1')?.customerId, 'c1');
    assert.equal(s.findCustomerByMeterId('m1')?.customerId, 'c1');
    assert.deepEqual(s.customersOfMeter('c2').map((c) => c.customerId), ['c2'], 'a customer naming no meter is its own meter');
    assert.deepEqual(s.listCustomers().map((c) => c.customerId), ['c1', 'c2']);
    s.putRegistration(registration('v1', 'c1', { fingerprint: 'AB:CD' }));
    s.putRegistration(registration('v2', 'c2'));
    assert.equal(s.findRegistrationByCustomer('c2')?.venId, 'v2');
    assert.equal(s.findRegistrationByFingerprint('AB:CD')?.venId, 'v1');
    assert.equal(s.findRegistrationByRegistrationId('reg-v2')?.venId, 'v2');
    assert.equal(s.countRegistrations(), 2);
    assert.deepEqual(s.listRegistrations().map((r) => r.venId), ['v1', 'v2']);
  });

  test(`${name} store: events and each VEN's view of them, oldest event first`, async (t) => {
    const { store: s } = await fresh(t);
    s.putEvent(event('e2', ['v1']));
    s.putEvent(event('e1', ['v1', 'v2']));
    s.putEventVen(venState('e1', 'v1'));
    s.putEventVen(venState('e2', 'v1', 'optOut'));
    s.putEventVen(venState('e1', 'v2'));
    assert.deepEqual(s.listVenEvents('v1').map((x) => [x.event.eventId, x.state.optType]), [['e2', 'optOut'], ['e1', undefined]]);
    assert.deepEqual(s.listEventVens('e1').map((x) => x.venId), ['v1', 'v2']);
    assert.deepEqual(s.listEvents().map((e) => e.eventId), ['e2', 'e1']);
    assert.deepEqual(s.getEvent('e1')?.venIds, ['v1', 'v2']);
  });

  test(`${name} store: report requests list in the order they were made, an update keeps the place; the write probe writes`, async (t) => {
    const { store: s } = await fresh(t);
    const rr = (id: string, state: 'requested' | 'active') => ({ venId: 'v1', reportRequestId: id, reportSpecifierId: `s-${id}`, reportName: 'TELEMETRY_USAGE', rIds: ['usage'], units: {}, granularityMs: 60_000, backDurationMs: 60_000, state, createdAt: 1, updatedAt: 1 });
    s.putReportRequest(rr('b', 'requested'));
    s.putReportRequest(rr('a', 'requested'));
    s.putReportRequest(rr('b', 'active'));
    assert.deepEqual(s.listReportRequests('v1').map((r) => [r.reportRequestId, r.state]), [['b', 'active'], ['a', 'requested']]);
    s.appendTelemetry({ venId: 'v1', reportRequestId: 'b', reportSpecifierId: 's-b', receivedAt: 4, report: { x: 1 } });
    assert.deepEqual(s.listTelemetry('v1'), [{ venId: 'v1', reportRequestId: 'b', reportSpecifierId: 's-b', receivedAt: 4, report: { x: 1 } }]);
    s.probeWrite();
  });
}
