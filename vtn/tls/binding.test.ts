/**
 * The venID ↔ certificate binding (R400, R404, R508, R517, §9.2.1.1, §10.5.1) decided on a real store:
 * which certificate may send which venID, at registration and after, and what `bindRegistration`
 * records. 452 when the certificate belongs to another VEN, 463 when it belongs to none.
 */
import { test, type TestContext } from 'node:test';
import { ResponseCode, type Payload } from '../../oadr/index.ts';
import type { VtnContext } from '../services/context.ts';
import { createSqliteStore } from '../store/sqlite-store.ts';
import type { CustomerRecord, VenRegistration } from '../store/store.ts';
import { recordingLogger, ven as build } from '../testing/fake-ven.ts';
import { bindRegistration, checkCertificateBinding } from './binding.ts';

// Fingerprints as the TLS layer gives them (colon-separated, upper case) and in other accepted spellings.
const FA = '0A:0A:0A:0A:0A:0A:0A:0A:0A:0A';
const FA_OTHER_SPELLING = '0a0a0a0a0a0a0a0a0a0a';
const FB = '0B:0B:0B:0B:0B:0B:0B:0B:0B:0B';
const FC = '0C:0C:0C:0C:0C:0C:0C:0C:0C:0C';
const FX = 'EE:EE:EE:EE:EE:EE:EE:EE:EE:EE'; // a trusted certificate bound to nothing

const customer = (customerId: string, o: Partial<CustomerRecord> = {}): CustomerRecord => ({ customerId, venName: undefined, fingerprint: undefined, venId: undefined, enrolledAt: 0, ...o });
const registration = (venId: string, customerId: string, fingerprint: string | undefined, registrationId = `reg-${venId}`): VenRegistration => ({
  venId, registrationId, customerId, venName: undefined, fingerprint, profileName: '2.0b', transportName: 'simpleHttp', transportAddress: undefined,
  httpPullModel: true, reportOnly: false, xmlSignature: false, registeredAt: 0, state: 'registered', reregistrationRequested: false,
});

/**
 * Customers: c-a (VEN ven-a, registered as venA with certificate A), c-b (enrolled with certificate B,
 * registered as venB), c-c (pre-configured venID pre-c, enrolled with certificate C, not registered),
 * c-d (VEN name ven-d, nothing else), c-e (pre-configured venID pre-e, no certificate).
 */
function setup(t: TestContext) {
  const store = createSqliteStore({ dataDir: ':memory:' });
  t.after(() => store.close());
  const log = recordingLogger();
  store.putCustomer(customer('c-a', { venName: 'ven-a' }));
  store.putCustomer(customer('c-b', { venName: 'ven-b', fingerprint: FB }));
  store.putCustomer(customer('c-c', { venName: 'ven-c', venId: 'pre-c', fingerprint: FC }));
  store.putCustomer(customer('c-d', { venName: 'ven-d' }));
  store.putCustomer(customer('c-e', { venName: 'ven-e', venId: 'pre-e' }));
  store.putRegistration(registration('venA', 'c-a', FA));
  store.putRegistration(registration('venB', 'c-b', FB));
  const ctx = { store, log } as unknown as VtnContext;
  const code = (p: Payload, fingerprint: string): number => checkCertificateBinding(ctx, p, fingerprint)?.responseCode ?? ResponseCode.OK;
  return { store, log, ctx, code };
}

const cancel = (registrationId: string, venId?: string): Payload => ({ type: 'CancelPartyRegistration', schemaVersion: '2.0b', requestId: 'rq-c', registrationId, ...(venId === undefined ? {} : { venId }) });

test('R517: after registration a venID is accepted only from its certificate (any spelling); 452 from another VEN\'s, 463 from an unbound one', (t) => {
  const { ctx, code } = setup(t);
  t.assert.equal(code(build.poll('venA'), FA), 200);
  t.assert.equal(code(build.poll('venA'), FA_OTHER_SPELLING), 200, 'the same fingerprint written another way');
  t.assert.equal(code(build.requestEvent('venA'), FB), ResponseCode.INVALID_ID, 'certificate B belongs to venB');
  t.assert.equal(code(build.poll('venA'), FX), ResponseCode.NOT_REGISTERED_OR_AUTHORIZED, 'certificate X belongs to no VEN');
  t.assert.equal(code(build.poll('nobody'), FB), ResponseCode.INVALID_ID, 'a bound certificate with a venID that is not its own');
  // The refusal names the venID claimed and, when there is one, the VEN the certificate belongs to (for the security log).
  t.assert.match(checkCertificateBinding(ctx, build.poll('venA'), FB)?.message ?? '', /venID 'venA' .* bound to venID venB/);
  t.assert.match(checkCertificateBinding(ctx, build.poll('venA'), FX)?.message ?? '', /not bound to venID 'venA' nor to any VEN/);
  // Unknown venID from an unknown certificate, and a payload without venID, go on: dispatch answers 463 / 459 (R508).
  t.assert.equal(code(build.poll('nobody'), FX), 200);
  t.assert.equal(code(build.poll(''), FB), 200);
});

test('R404: any trusted certificate may query registration', (t) => {
  const { code } = setup(t);
  t.assert.equal(code(build.query(), FX), 200);
  t.assert.equal(code(build.query(), FB), 200);
});

test('§9.2.1.1: oadrCancelPartyRegistration naming only its registrationID is checked against that registration', (t) => {
  const { code } = setup(t);
  t.assert.equal(code(cancel('reg-venA'), FA), 200);
  t.assert.equal(code(cancel('reg-venA'), FB), ResponseCode.INVALID_ID);
  t.assert.equal(code(cancel('reg-venA'), FX), ResponseCode.NOT_REGISTERED_OR_AUTHORIZED);
  t.assert.equal(code(cancel('reg-unknown'), FB), 200, 'dispatch answers an unknown registrationID');
  t.assert.equal(code(cancel('reg-unknown', 'venA'), FB), ResponseCode.INVALID_ID, 'with a venID, the venID is checked');
});

test('R400, §10.5.1: a registration naming a venID needs the certificate bound to it, enrolled for it, or a certificate bound to nothing', (t) => {
  const { code } = setup(t);
  t.assert.equal(code(build.create({ venId: 'venA', registrationId: 'reg-venA' }), FA), 200, 're-registration by the owner');
  t.assert.equal(code(build.create({ venId: 'venA', registrationId: 'reg-venA' }), FX), ResponseCode.INVALID_ID);
  t.assert.equal(code(build.create({ venId: 'pre-c' }), FC), 200, 'the certificate enrolled for the pre-configured venID');
  t.assert.equal(code(build.create({ venId: 'pre-c' }), FX), ResponseCode.INVALID_ID);
  t.assert.equal(code(build.create({ venId: 'pre-e' }), FX), 200, 'no certificate enrolled: the first one is bound');
  t.assert.equal(code(build.create({ venId: 'pre-e' }), FA), ResponseCode.INVALID_ID, 'certificate A already registers venA');
  t.assert.equal(code(build.create({ venId: 'brand-new' }), FX), 200);
  t.assert.equal(code(build.create({ venId: 'brand-new' }), FB), ResponseCode.INVALID_ID);
});

test('R400, §10.5.1: a registration by VEN name needs the customer\'s certificate; one certificate registers one VEN', (t) => {
  const { code } = setup(t);
  t.assert.equal(code(build.create({ venName: 'ven-b' }), FB), 200, 'the enrolled certificate');
  t.assert.equal(code(build.create({ venName: 'ven-b' }), FX), ResponseCode.INVALID_ID, 'not the enrolled certificate');
  t.assert.equal(code(build.create({ venName: 'ven-a' }), FA), 200, 'the certificate of the customer\'s registration');
  t.assert.equal(code(build.create({ venName: 'ven-a' }), FX), ResponseCode.INVALID_ID, 'the customer is registered with another certificate');
  t.assert.equal(code(build.create({ venName: 'ven-d' }), FX), 200, 'nothing enrolled, nothing registered: first come');
  t.assert.equal(code(build.create({ venName: 'ven-d' }), FA), ResponseCode.INVALID_ID, 'certificate A is venA\'s, of another customer');
  t.assert.equal(code(build.create({ venName: 'stranger' }), FX), 200, 'no such customer: the registration policy decides');
  t.assert.equal(code(build.create({ venName: 'stranger' }), FA), ResponseCode.INVALID_ID);
  t.assert.equal(code(build.create({ venName: '' }), FA), ResponseCode.INVALID_ID, 'an empty VEN name is no name');
  t.assert.equal(code(build.create({}), FX), 200);
});

test('bindRegistration: an OK answer binds the certificate to the venID and, once, to the customer; other answers bind nothing', (t) => {
  const { store, log, ctx } = setup(t);
  const answer = (venId: string | undefined, code: number = ResponseCode.OK): Payload => ({
    type: 'CreatedPartyRegistration', schemaVersion: '2.0b', response: { code, description: 'x', requestId: 'rq-reg' }, vtnId: 'vtn', profiles: [{ profileName: '2.0b', transports: ['simpleHttp'] }],
    ...(venId === undefined ? {} : { venId, registrationId: `reg-${venId}` }),
  });
  store.putRegistration(registration('venD', 'c-d', undefined));
  bindRegistration(ctx, answer('venD', ResponseCode.INVALID_ID), FX);
  bindRegistration(ctx, answer(undefined), FX);
  bindRegistration(ctx, { type: 'Response', schemaVersion: '2.0b', response: { code: 200, description: 'OK', requestId: 'r' } } as Payload, FX);
  bindRegistration(ctx, answer('not-stored'), FX);
  t.assert.deepEqual([store.getRegistration('venD')?.fingerprint, store.getCustomer('c-d')?.fingerprint], [undefined, undefined], 'nothing bound by a refusal or a foreign payload');

  bindRegistration(ctx, answer('venD'), 'ee:ee:ee:ee:ee:ee:ee:ee:ee:ee');
  t.assert.equal(store.getRegistration('venD')?.fingerprint, FX, 'the registration holds the normalized fingerprint');
  t.assert.equal(store.findRegistrationByFingerprint(FX)?.venId, 'venD');
  t.assert.equal(checkCertificateBinding(ctx, build.poll('venD'), FX), undefined);
  t.assert.deepEqual(log.records.filter((r) => r.customerId === 'c-d').map((r) => r.level), ['info'], 'the customer\'s first certificate is logged');
  t.assert.equal(checkCertificateBinding(ctx, build.create({ venName: 'ven-d' }), FC)?.responseCode, ResponseCode.INVALID_ID, 'the customer is now bound to certificate X');

  // A customer's enrolled fingerprint is never replaced; the registration follows the certificate it came with.
  bindRegistration(ctx, answer('venB'), FC);
  t.assert.equal(store.getCustomer('c-b')?.fingerprint, FB);
  t.assert.equal(store.getRegistration('venB')?.fingerprint, FC);
  t.assert.equal(log.records.filter((r) => r.customerId === 'c-b').length, 0);
});
