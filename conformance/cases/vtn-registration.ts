/** VTN side, EiRegisterParty (R400–R407, R70, R309, R517, R512): the suite registers VENs. */
import { build, delivered, drain, expectPayload, needTwoVens, order, register, send, transportOf, type AsVen } from '../as-ven.ts';
import { HTTP_TRANSPORTS } from '../case.ts';
import { defineCase, type CaseSpec } from '../runner.ts';

const is4xx = (code: number): boolean => code >= 400 && code < 500;
const c = (id: string, title: string, run: CaseSpec<AsVen>['run'], transports?: CaseSpec<AsVen>['transports']): CaseSpec<AsVen> => defineCase(id, title, 'registration', run, transports);

export const vtnRegistrationCases: readonly CaseSpec<AsVen>[] = [
  c('R511-query-registration', 'oadrQueryRegistration at …/OpenADR2/Simple/2.0b/EiRegisterParty answers oadrCreatedPartyRegistration', async (ctx, t) => {
    const a = expectPayload(await send(ctx, 'EiRegisterParty', build.query()), 'CreatedPartyRegistration', 'oadrQueryRegistration');
    t.check(a.response.code === 200, 'the answer to oadrQueryRegistration is not 200', { expected: '200', actual: String(a.response.code) });
  }),
  c('R404-query-lists-profiles', 'the answer to oadrQueryRegistration lists the 2.0b profile with its transports and, for an unknown VEN, no IDs', async (ctx, t) => {
    const a = expectPayload(await send(ctx, 'EiRegisterParty', build.query()), 'CreatedPartyRegistration', 'oadrQueryRegistration');
    const b = a.profiles.find((p) => p.profileName === '2.0b');
    t.check(b !== undefined, 'oadrProfiles does not list 2.0b', { actual: a.profiles.map((p) => p.profileName).join(', ') });
    t.check((b?.transports.length ?? 0) > 0, 'the 2.0b profile lists no transport');
    t.check(a.registrationId === undefined && a.venId === undefined, 'the answer to a VEN that never registered carries a registrationID or venID (R404)', { actual: `registrationID ${a.registrationId ?? '-'}, venID ${a.venId ?? '-'}` });
  }),
  c('R402+R403-pull-registration', 'a pull registration gets registrationID, venID, vtnID, oadrProfiles and oadrRequestedOadrPollFreq', async (ctx, t) => {
    const v = await register(ctx, t, { pull: true, metadata: false });
    t.check(v.created.vtnId !== '', 'vtnID is empty');
    t.check(v.created.profiles.some((p) => p.profileName === '2.0b'), 'oadrProfiles does not list 2.0b');
    t.check(v.created.pollFrequency !== undefined, 'no oadrRequestedOadrPollFreq for a VEN that registered for HTTP pull (R403)');
  }),
  c('R402+R403-push-registration', 'a push registration with a transport address is accepted with its IDs', async (ctx, t) => {
    const v = await register(ctx, t, { pull: false, metadata: false });
    t.check(v.created.vtnId !== '', 'vtnID is empty');
  }, ['http-push']),
  c('R402-push-without-address', 'a push registration without oadrTransportAddress is refused with a 4xx', async (ctx, t) => {
    const a = expectPayload(await send(ctx, 'EiRegisterParty', build.create({ name: ctx.nextName('noaddr'), pull: false })), 'CreatedPartyRegistration', 'push registration without address');
    t.check(is4xx(a.response.code), 'a push registration without oadrTransportAddress was accepted', { expected: '4xx', actual: String(a.response.code) });
  }),
  c('R402-unknown-registration-id', 'a registration carrying a registrationID and venID the VTN never issued gets 452', async (ctx, t) => {
    const a = expectPayload(await send(ctx, 'EiRegisterParty', build.create({ name: ctx.nextName('unknownreg'), ...transportOf(ctx, '', true), registrationId: 'never-issued-reg', venId: `${ctx.venName}-never-issued-ven` })), 'CreatedPartyRegistration', 'registration with an unknown registrationID');
    t.check(a.response.code === 452, 'an unknown registrationID is not refused with 452', { expected: '452', actual: String(a.response.code) });
  }),
  c('R400-wrong-registration-id', 'a re-registration with the right venID and a wrong registrationID gets 452', async (ctx, t) => {
    const v = await register(ctx, t, { metadata: false });
    const a = expectPayload(await send(ctx, 'EiRegisterParty', build.create({ name: v.name, ...transportOf(ctx, v.name, v.pull), venId: v.venId, registrationId: `${v.registrationId}-wrong` })), 'CreatedPartyRegistration', 're-registration');
    t.check(a.response.code === 452, 'a wrong registrationID is not refused with 452', { expected: '452', actual: String(a.response.code) });
  }),
  c('R400-reregistration-keeps-ids', 'a re-registration with the right IDs keeps registrationID and venID (§8.4.1)', async (ctx, t) => {
    const v = await register(ctx, t, { metadata: false });
    const a = expectPayload(await send(ctx, 'EiRegisterParty', build.create({ name: v.name, ...transportOf(ctx, v.name, v.pull), venId: v.venId, registrationId: v.registrationId })), 'CreatedPartyRegistration', 're-registration');
    t.check(a.response.code === 200, 're-registration with the right IDs was refused', { expected: '200', actual: String(a.response.code) });
    t.check(a.registrationId === v.registrationId && a.venId === v.venId, 'the IDs changed on re-registration', { expected: `${v.registrationId} / ${v.venId}`, actual: `${a.registrationId ?? '-'} / ${a.venId ?? '-'}` });
  }),
  c('R406-fresh-registration', 'a registered VEN that registers again without IDs is registered anew (200)', async (ctx, t) => {
    const v = await register(ctx, t, { metadata: false });
    const a = expectPayload(await send(ctx, 'EiRegisterParty', build.create({ name: v.name, ...transportOf(ctx, v.name, v.pull) })), 'CreatedPartyRegistration', 'fresh registration');
    if (a.venId !== undefined && a.registrationId !== undefined) ctx.vens.set(v.name, { ...v, venId: a.venId, registrationId: a.registrationId });
    t.check(a.response.code === 200 && a.venId !== undefined && a.registrationId !== undefined, 'a fresh registration of a registered VEN was not accepted with IDs', { expected: '200 with IDs', actual: String(a.response.code) });
  }),
  c('R407-cancel-by-ven', 'oadrCancelPartyRegistration from the VEN: oadrCanceledPartyRegistration 200, then the next oadrPoll gets 463', async (ctx, t) => {
    const v = await register(ctx, t, { metadata: false, pull: true });
    const a = expectPayload(await send(ctx, 'EiRegisterParty', build.cancelRegistration(v.venId, v.registrationId)), 'CanceledPartyRegistration', 'oadrCancelPartyRegistration');
    t.check(a.response.code === 200, 'the cancellation was not answered 200', { actual: String(a.response.code) });
    const p = expectPayload(await send(ctx, 'OadrPoll', build.poll(v.venId)), 'Response', 'oadrPoll after the cancellation');
    t.check(p.response.code === 463, 'a cancelled VEN polls and is not told 463 (not registered)', { expected: '463', actual: String(p.response.code) });
  }),
  c('R407-cancel-by-vtn', 'the VTN cancels a registration: the VEN receives oadrCancelPartyRegistration with its registrationID', async (ctx, t) => {
    const v = await register(ctx, t);
    await drain(ctx, v);
    await order(ctx, t, 'cancel-registration', { venId: v.venId });
    const p = await delivered(ctx, t, v, 'CancelPartyRegistration');
    t.check(p.registrationId === v.registrationId, 'oadrCancelPartyRegistration names another registrationID', { expected: v.registrationId, actual: p.registrationId });
  }),
  c('R401-request-reregistration', 'the VTN asks for a re-registration: the VEN receives oadrRequestReregistration with its venID', async (ctx, t) => {
    const v = await register(ctx, t);
    await drain(ctx, v);
    await order(ctx, t, 'request-reregistration', { venId: v.venId });
    const p = await delivered(ctx, t, v, 'RequestReregistration');
    t.check(p.venId === v.venId, 'oadrRequestReregistration names another venID', { expected: v.venId, actual: p.venId });
  }),
  c('R401-reregistration-request-to-vtn', 'oadrRequestReregistration posted to the VTN (a VTN→VEN payload) gets 404 or a 4xx', async (ctx, t) => {
    const v = await register(ctx, t, { metadata: false });
    const a = await send(ctx, 'EiRegisterParty', { type: 'RequestReregistration', schemaVersion: '2.0b', venId: v.venId });
    const code = a.payload !== undefined && 'response' in a.payload && a.payload.response !== undefined ? a.payload.response.code : undefined;
    t.check(a.status === 404 || (a.status >= 400 && a.status < 500) || (code !== undefined && is4xx(code)), 'the VTN accepted oadrRequestReregistration from a VEN', { expected: '404 or a 4xx', actual: `HTTP ${a.status}${code === undefined ? '' : `, code ${code}`}` });
  }),
  c('R70-distinct-ven-ids', 'two VENs registered get distinct venIDs and registrationIDs', async (ctx, t) => {
    needTwoVens(ctx, t);
    const a = await register(ctx, t, { metadata: false });
    const b = await register(ctx, t, { metadata: false });
    t.check(a.venId !== b.venId, 'two VENs got the same venID', { actual: a.venId });
    t.check(a.registrationId !== b.registrationId, 'two VENs got the same registrationID', { actual: a.registrationId });
  }),
  c('R309+R301-vtn-metadata-first', "after a new registration the VTN's oadrRegisterReport is the first payload it delivers", async (ctx, t) => {
    const v = await register(ctx, t, { metadata: false });
    const p = await delivered(ctx, t, v, 'RegisterReport', () => true, { timeoutMs: ctx.deliveryTimeoutMs });
    t.check(p.type === 'RegisterReport', 'no oadrRegisterReport after registration');
  }),
  c('R517-unregistered-request-event', 'oadrRequestEvent from a venID the VTN does not know gets an oadrDistributeEvent with 463 (or 452) and no event', async (ctx, t) => {
    const a = expectPayload(await send(ctx, 'EiEvent', build.requestEvent(`${ctx.venName}-never-registered`)), 'DistributeEvent', 'oadrRequestEvent');
    const code = a.response?.code;
    t.check(code === 463 || code === 452, 'an unknown VEN is not told 463 (not registered) or 452', { expected: '463 or 452', actual: String(code ?? 'no eiResponse') });
    t.check((a.events ?? []).length === 0, 'an unknown VEN is sent events');
  }),
  c('R512-ven-id-case-sensitive', 'oadrPoll with the venID in another letter case gets 452 (IDs compare case-sensitively)', async (ctx, t) => {
    const v = await register(ctx, t, { metadata: false, pull: true });
    const other = v.venId.toUpperCase() === v.venId ? v.venId.toLowerCase() : v.venId.toUpperCase();
    if (other === v.venId) t.skip(`the venID '${v.venId}' has no letters to change the case of`);
    const p = expectPayload(await send(ctx, 'OadrPoll', build.poll(other)), 'Response', 'oadrPoll');
    t.check(p.response.code === 452 || p.response.code === 463, 'a venID in another letter case was taken for the registered one', { expected: '452 (or 463)', actual: String(p.response.code) });
  }),
  c('R500-poll-wrong-ven-id', 'oadrPoll with a venID never issued gets oadrResponse 452 (or 463)', async (ctx, t) => {
    const p = expectPayload(await send(ctx, 'OadrPoll', build.poll(`${ctx.venName}-no-such-ven`)), 'Response', 'oadrPoll');
    t.check(p.response.code === 452 || p.response.code === 463, 'a poll with an unknown venID is not refused', { expected: '452 or 463', actual: String(p.response.code) });
  }, HTTP_TRANSPORTS),
];
