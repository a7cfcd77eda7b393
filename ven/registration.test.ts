/** VEN registration state machine (rules digest 3.4) and the §9.1.7 back-off. */
import { test, type TestContext } from 'node:test';
import type { CreatedPartyRegistration } from '../oadr/index.ts';
import { backoffDelay } from './backoff.ts';
import { createRegistrationPayload, INITIAL_REGISTRATION, RegistrationStatus, stepRegistration, type RegistrationState } from './registration.ts';

const created = (code = 200, ids = true): CreatedPartyRegistration => ({
  type: 'CreatedPartyRegistration',
  schemaVersion: '2.0b',
  response: { code, requestId: 'r1' },
  ...(ids ? { registrationId: 'reg-1', venId: 'ven-1' } : {}),
  vtnId: 'vtn-1',
  profiles: [{ profileName: '2.0b', transports: ['simpleHttp'] }],
  pollFrequency: 'PT10S',
});

test('R401+R402 VEN: boot sends a create without IDs; 200 stores IDs and poll frequency, then syncs (R309, R405)', (t: TestContext) => {
  const a = stepRegistration(INITIAL_REGISTRATION, { type: 'boot' });
  t.assert.deepStrictEqual(a.actions, [{ type: 'sendCreate', registration: undefined }]);
  t.assert.equal(a.state.status, RegistrationStatus.REGISTERING);
  const p = createRegistrationPayload({ requestId: 'q', venName: 'v', registration: undefined });
  t.assert.equal(p.registrationId, undefined);
  t.assert.equal(p.venId, undefined);
  t.assert.equal(p.httpPullModel, true);
  const b = stepRegistration(a.state, { type: 'created', payload: created() });
  t.assert.equal(b.state.status, RegistrationStatus.SYNCING);
  t.assert.deepStrictEqual(b.state.registration, { venId: 'ven-1', registrationId: 'reg-1', vtnId: 'vtn-1', pollFreqMs: 10_000 });
  t.assert.deepStrictEqual(b.actions.map((x) => x.type), ['store', 'sync']);
  t.assert.equal(stepRegistration(b.state, { type: 'synced' }).state.status, RegistrationStatus.OPERATIONAL);
});

test('§9.1.7 VEN: a refused or failed registration backs off and retries', (t: TestContext) => {
  const a = stepRegistration(INITIAL_REGISTRATION, { type: 'boot' });
  const b = stepRegistration(a.state, { type: 'created', payload: created(463, false) });
  t.assert.equal(b.state.status, RegistrationStatus.UNREGISTERED);
  t.assert.deepStrictEqual(b.actions.at(-1), { type: 'backoff', failures: 1 });
  const c = stepRegistration(stepRegistration(b.state, { type: 'retry' }).state, { type: 'failed' });
  t.assert.deepStrictEqual(c.actions, [{ type: 'backoff', failures: 2 }]);
});

test('R401+R402 VEN: oadrRequestReregistration -> create with registrationID and venID; IDs kept', (t: TestContext) => {
  const op: RegistrationState = { status: RegistrationStatus.OPERATIONAL, registration: { venId: 'ven-1', registrationId: 'reg-1', vtnId: 'vtn-1', pollFreqMs: 10_000 }, failures: 0 };
  const a = stepRegistration(op, { type: 'reregistrationRequested' });
  t.assert.equal(a.state.status, RegistrationStatus.REREGISTERING);
  const send = a.actions[0];
  t.assert.ok(send?.type === 'sendCreate' && send.registration?.registrationId === 'reg-1');
  const p = createRegistrationPayload({ requestId: 'q', venName: 'v', registration: op.registration, transportAddress: 'https://ven.example:8443/' });
  t.assert.deepStrictEqual([p.registrationId, p.venId, p.httpPullModel, p.transportAddress], ['reg-1', 'ven-1', false, 'https://ven.example:8443/']);
  const b = stepRegistration(a.state, { type: 'created', payload: created() });
  t.assert.equal(b.state.status, RegistrationStatus.OPERATIONAL);
  t.assert.deepStrictEqual(b.actions.map((x) => x.type), ['store', 'sendMetadata']);
});

test('R407 VEN: a cancel received or acknowledged deletes all state; a 463 is treated as unregistered', (t: TestContext) => {
  const op: RegistrationState = { status: RegistrationStatus.OPERATIONAL, registration: { venId: 'ven-1', registrationId: 'reg-1', vtnId: 'vtn-1', pollFreqMs: undefined }, failures: 0 };
  for (const type of ['cancelReceived', 'cancelAcknowledged', 'notRegistered'] as const) {
    const r = stepRegistration(op, { type });
    t.assert.deepStrictEqual(r.state, { status: RegistrationStatus.UNREGISTERED, registration: undefined, failures: 0 }, type);
    t.assert.equal(r.actions[0]?.type, 'clear');
  }
});

test('§9.1.7 VEN: back-off is 1 s ±10 %, doubling, truncated at the cap', (t: TestContext) => {
  const lo = () => 0;
  const hi = () => 0.999999;
  t.assert.deepStrictEqual([backoffDelay(1, lo), backoffDelay(1, hi)], [900, 1100]);
  t.assert.deepStrictEqual([1, 2, 3, 4].map((n) => backoffDelay(n, () => 0.5)), [1000, 2000, 4000, 8000]);
  t.assert.equal(backoffDelay(30, () => 0.5, { capMs: 10_000 }), 10_000);
  t.assert.equal(backoffDelay(30, hi, { capMs: 10_000 }), 11_000);
});
