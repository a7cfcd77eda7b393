/** VTN side, EiEvent (R2–R116): events the VTN issues, modifies and cancels, as a VEN receives them. */
import { durationToMs, type OadrEvent } from '../../oadr/index.ts';
import { build, delivered, drain, expectPayload, issueEvent, order, register, requestEvents, send, type AsVen, type RegisteredVen } from '../as-ven.ts';
import { defineCase, type CaseControl, type CaseSpec } from '../runner.ts';

const c = (id: string, title: string, run: CaseSpec<AsVen>['run'], transports?: CaseSpec<AsVen>['transports']): CaseSpec<AsVen> => defineCase(id, title, 'event', run, transports);

/** A registered VEN (queue drained) with one far event of two 15-minute intervals. */
async function withEvent(ctx: AsVen, t: CaseControl, o: Parameters<typeof issueEvent>[3] = {}): Promise<{ ven: RegisteredVen; event: OadrEvent; eventId: string; requestId: string }> {
  const ven = await register(ctx, t);
  await drain(ctx, ven);
  const { event, eventId, distribute } = await issueEvent(ctx, t, ven, { durationMinutes: 30, values: [1000, 2000], ...o });
  return { ven, event, eventId, requestId: distribute.requestId };
}

/** A check of one received event (the payload-level ones: uids, durations, signals, targets). */
const eventCase = (id: string, title: string, check: (e: OadrEvent, t: CaseControl) => void): CaseSpec<AsVen> =>
  c(id, title, async (ctx, t) => {
    const { event } = await withEvent(ctx, t);
    check(event, t);
  });

const TABLE1: Readonly<Record<string, Readonly<Record<string, readonly string[] | 'none'>>>> = {
  SIMPLE: { level: 'none' },
  ELECTRICITY_PRICE: { price: ['currencyPerKWh'], priceRelative: ['currencyPerKWh'], priceMultiplier: 'none' },
  ENERGY_PRICE: { price: ['currencyPerKWh'], priceRelative: ['currencyPerKWh'], priceMultiplier: 'none' },
  DEMAND_CHARGE: { price: ['currencyPerKW'], priceRelative: ['currencyPerKW'], priceMultiplier: 'none' },
  BID_LOAD: { setpoint: ['powerReal', 'powerApparent', 'powerReactive'] },
  BID_ENERGY: { setpoint: ['energyReal', 'energyApparent', 'energyReactive'] },
  CHARGE_STATE: { setpoint: ['energyReal', 'energyApparent', 'energyReactive'], delta: ['energyReal', 'energyApparent', 'energyReactive'], multiplier: 'none' },
  LOAD_DISPATCH: { setpoint: ['powerReal', 'powerApparent', 'powerReactive'], delta: ['powerReal', 'powerApparent', 'powerReactive'], multiplier: 'none', level: ['powerReal', 'powerApparent', 'powerReactive'] },
  LOAD_CONTROL: { 'x-loadControlCapacity': 'none', 'x-loadControlLevelOffset': 'none', 'x-loadControlSetpoint': 'none', 'x-loadControlPercentOffset': 'none' },
};

const MRIDS = new Set(['Thermostat', 'Strip_Heater', 'Baseboard_Heater', 'Water_Heater', 'Pool_Pump', 'Sauna', 'Hot_tub', 'Smart_Appliance', 'Irrigation_Pump', 'Managed_Commercial_and_Industrial_Loads', 'Simple_Residential_On_Off_Loads', 'Exterior_Lighting', 'Interior_Lighting', 'Electric_Vehicle', 'Generation_Systems', 'Load_Control_Switch', 'Smart_Inverter', 'EVSE', 'RESU', 'Energy_Management_System', 'Smart_Energy_Module', 'Storage']);

const ms = (d: string): number => durationToMs(d, Date.UTC(2000, 0, 1));

export const vtnEventCases: readonly CaseSpec<AsVen>[] = [
  c('R40+R41-request-event', 'oadrRequestEvent is answered with oadrDistributeEvent carrying eiResponse 200 and a non-empty requestID', async (ctx, t) => {
    const ven = await register(ctx, t);
    const d = await requestEvents(ctx, ven);
    t.check(d.response?.code === 200, 'the oadrDistributeEvent answering oadrRequestEvent has no eiResponse 200 (R40)', { actual: String(d.response?.code ?? 'no eiResponse') });
    t.check(d.requestId !== '', 'the top-level requestID of oadrDistributeEvent is empty (R41)');
  }),
  c('R4-new-event-modification-0', 'a new event arrives with modificationNumber 0', async (ctx, t) => {
    const { event } = await withEvent(ctx, t);
    t.check(event.descriptor.modificationNumber === 0, 'a new event does not start at modificationNumber 0', { expected: '0', actual: String(event.descriptor.modificationNumber) });
  }),
  c('R5+R115-modify', 'a modified event arrives with modificationNumber + 1 and a renewed createdDateTime', async (ctx, t) => {
    const { ven, event, eventId } = await withEvent(ctx, t);
    const from = ctx.inbox.received.length;
    await order(ctx, t, 'modify-event', { venId: ven.venId, eventId, values: [1500, 2500] });
    const d = await delivered(ctx, t, ven, 'DistributeEvent', (p) => (p.events ?? []).some((e) => e.descriptor.eventId === eventId), { from });
    const m = (d.events ?? []).find((e) => e.descriptor.eventId === eventId);
    t.check(m?.descriptor.modificationNumber === event.descriptor.modificationNumber + 1, 'the modification number did not rise by exactly 1 (R5)', { expected: String(event.descriptor.modificationNumber + 1), actual: String(m?.descriptor.modificationNumber) });
    t.check(m !== undefined && Date.parse(m.descriptor.createdDateTime) >= Date.parse(event.descriptor.createdDateTime), 'createdDateTime went back on a modification (R115)', { actual: m?.descriptor.createdDateTime });
  }),
  c('R10+R5-cancel', 'a cancelled event arrives with eventStatus cancelled and modificationNumber + 1', async (ctx, t) => {
    const { ven, event, eventId } = await withEvent(ctx, t);
    const from = ctx.inbox.received.length;
    await order(ctx, t, 'cancel-event', { venId: ven.venId, eventId });
    const d = await delivered(ctx, t, ven, 'DistributeEvent', (p) => (p.events ?? []).some((e) => e.descriptor.eventId === eventId), { from });
    const m = (d.events ?? []).find((e) => e.descriptor.eventId === eventId);
    t.check(m?.descriptor.eventStatus === 'cancelled', 'the cancelled event does not say eventStatus cancelled (R10)', { actual: m?.descriptor.eventStatus });
    t.check(m?.descriptor.modificationNumber === event.descriptor.modificationNumber + 1, 'the cancellation did not raise the modificationNumber by 1 (R5)', { expected: String(event.descriptor.modificationNumber + 1), actual: String(m?.descriptor.modificationNumber) });
  }),
  eventCase('R2+R101-interval-uids', 'interval uids of every signal and baseline run 0, 1, 2, …', (e, t) => {
    for (const s of e.signals) t.check(s.intervals.every((iv, i) => iv.uid === String(i)), `signal ${s.signalId}: interval uids are not 0, 1, 2, …`, { actual: s.intervals.map((iv) => iv.uid ?? '-').join(',') });
    if (e.baseline !== undefined) t.check(e.baseline.intervals.every((iv, i) => iv.uid === String(i)), 'baseline interval uids are not 0, 1, 2, …', { ruleIds: ['R101'] });
  }),
  eventCase('R8+R102-durations-add-up', 'interval durations add up to the active period (signals) and the baseline duration', (e, t) => {
    const total = ms(e.activePeriod.duration);
    for (const s of e.signals) {
      const missing = s.intervals.some((iv) => iv.duration === undefined);
      t.check(!missing, `signal ${s.signalId}: an interval has no duration (R8)`);
      const sum = s.intervals.reduce((a, iv) => a + (iv.duration === undefined ? 0 : ms(iv.duration)), 0);
      t.check(missing || total === 0 || sum === total, `signal ${s.signalId}: the interval durations add up to ${sum / 60_000} min, the event lasts ${total / 60_000} min`, { expected: e.activePeriod.duration });
    }
    if (e.baseline !== undefined) {
      const sum = e.baseline.intervals.reduce((a, iv) => a + (iv.duration === undefined ? 0 : ms(iv.duration)), 0);
      t.check(sum === ms(e.baseline.duration), 'the baseline intervals do not add up to the baseline duration (R102)', { ruleIds: ['R102'] });
    }
  }),
  eventCase('R100+R103-interval-payloads', 'every interval has one signalPayload and no dtstart', (e, t) => {
    for (const s of e.signals) t.check(s.intervals.every((iv) => iv.dtstart === undefined), `signal ${s.signalId}: an interval carries a dtstart (R103)`, { ruleIds: ['R103'] });
  }),
  eventCase('R105-notification', 'every 2.0b event carries x-eiNotification', (e, t) => {
    t.check(e.activePeriod.notification !== undefined, 'the event has no x-eiNotification (R105)');
  }),
  eventCase('R107-distinct-signal-ids', 'signalIDs are unique within the event', (e, t) => {
    const ids = e.signals.map((s) => s.signalId);
    t.check(new Set(ids).size === ids.length, 'two signals share a signalID', { actual: ids.join(', ') });
  }),
  eventCase('R116+R9-simple-level', 'a SIMPLE signal has signalType level and values 0–3', (e, t) => {
    for (const s of e.signals.filter((x) => x.signalName === 'SIMPLE' || x.signalName === 'simple')) {
      t.check(s.signalType === 'level', 'SIMPLE with a signalType other than level (R116)', { actual: s.signalType });
      t.check(s.intervals.every((iv) => [0, 1, 2, 3].includes(iv.value)), 'a SIMPLE value outside 0–3 (R9)', { ruleIds: ['R9'], actual: s.intervals.map((iv) => iv.value).join(',') });
    }
  }),
  eventCase('R104-signal-table', 'well-known signal names use the signal types and units of Table 1', (e, t) => {
    for (const s of e.signals) {
      const row = TABLE1[s.signalName];
      if (row === undefined) continue;
      const units = row[s.signalType];
      t.check(units !== undefined, `${s.signalName} with signalType ${s.signalType}, which Table 1 does not have`, { expected: Object.keys(row).join(' | '), actual: s.signalType });
      if (units === undefined) continue;
      if (units === 'none') t.check(s.itemBase === undefined, `${s.signalName}/${s.signalType} carries units (${s.itemBase?.type ?? ''}); Table 1 has none`);
      else t.check(s.itemBase !== undefined && units.includes(s.itemBase.type), `${s.signalName}/${s.signalType} in units ${s.itemBase?.type ?? 'none'}`, { expected: units.join(' | '), actual: s.itemBase?.type ?? 'none' });
    }
  }),
  eventCase('R63+R111-targets', 'eiTarget holds at most one venID; a signal-level eiTarget holds only endDeviceAsset mrids of the R111 list', (e, t) => {
    t.check((e.target.venIds ?? []).length <= 1, 'eiTarget holds more than one venID (R63)', { actual: (e.target.venIds ?? []).join(', ') });
    for (const s of e.signals) {
      if (s.target === undefined) continue;
      const { endDeviceAssets = [], ...rest } = s.target;
      const others = Object.entries(rest).filter(([, v]) => Array.isArray(v) && v.length > 0).map(([k]) => k);
      t.check(others.length === 0, `signal ${s.signalId}: the signal-level eiTarget holds ${others.join(', ')} (R111: endDeviceAsset only)`, { ruleIds: ['R111'] });
      t.check(endDeviceAssets.length > 0, `signal ${s.signalId}: an empty signal-level eiTarget (omit it, R111)`, { ruleIds: ['R111'] });
      for (const m of endDeviceAssets) t.check(MRIDS.has(m) || m.startsWith('x-'), `signal ${s.signalId}: mrid ${m} is not in the R111 list`, { ruleIds: ['R111'] });
    }
  }),
  eventCase('R13-far-before-start', 'an event that starts later and has no ramp-up is far', (e, t) => {
    if (e.activePeriod.rampUp !== undefined) t.skip('the VTN gives the event a ramp-up; the far status depends on it');
    t.check(e.descriptor.eventStatus === 'far', 'an event that has not started is not far', { expected: 'far', actual: e.descriptor.eventStatus });
  }),
  c('R14+R29+R115-active-event', 'an event that has started is active in the answer to oadrRequestEvent, and its currentValue is the running interval value', async (ctx, t) => {
    const startMs = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const { ven, eventId } = await withEvent(ctx, t, { startMs, durationMinutes: 15, values: [1200] });
    const d = await requestEvents(ctx, ven);
    const e = (d.events ?? []).find((x) => x.descriptor.eventId === eventId);
    t.check(e?.descriptor.eventStatus === 'active', 'a running event is not active in the answer to oadrRequestEvent (R115)', { expected: 'active', actual: e?.descriptor.eventStatus ?? 'missing' });
    for (const s of e?.signals ?? []) {
      if (s.currentValue === undefined) continue;
      t.check(s.currentValue === s.intervals[0]?.value, `signal ${s.signalId}: currentValue is not the value of the running interval (R29)`, { expected: String(s.intervals[0]?.value), actual: String(s.currentValue), ruleIds: ['R29'] });
    }
  }),
  c('R14-simple-zero-before-start', 'a SIMPLE currentValue is 0 while the event is not active', async (ctx, t) => {
    const { event } = await withEvent(ctx, t);
    const simple = event.signals.filter((s) => s.signalName === 'SIMPLE' || s.signalName === 'simple');
    if (simple.length === 0) t.skip('the VTN sends no SIMPLE signal in its events');
    for (const s of simple) t.check(s.currentValue === undefined || s.currentValue === 0, 'SIMPLE currentValue is not 0 before the start', { actual: String(s.currentValue) });
  }),
  c('R115-one-created-datetime', 'events delivered in one oadrDistributeEvent share one createdDateTime', async (ctx, t) => {
    const { ven } = await withEvent(ctx, t);
    await issueEvent(ctx, t, ven, { startMs: Math.ceil((Date.now() + (ctx.eventLeadMinutes + 60) * 60_000) / 60_000) * 60_000 });
    const d = await requestEvents(ctx, ven);
    const stamps = new Set((d.events ?? []).map((e) => e.descriptor.createdDateTime));
    if ((d.events ?? []).length < 2) t.skip('the VTN did not deliver both events');
    t.check(stamps.size === 1, 'the events of one oadrDistributeEvent have different createdDateTimes', { actual: [...stamps].join(', ') });
  }),
  c('R15-active-before-pending', 'active events come before pending ones, pending ones by dtstart', async (ctx, t) => {
    const ven = await register(ctx, t);
    await drain(ctx, ven);
    const lead = Math.ceil((Date.now() + ctx.eventLeadMinutes * 60_000) / 60_000) * 60_000;
    const late = await issueEvent(ctx, t, ven, { startMs: lead + 2 * 3_600_000 });
    const early = await issueEvent(ctx, t, ven, { startMs: lead });
    const active = await issueEvent(ctx, t, ven, { startMs: Math.floor(Date.now() / 60_000) * 60_000 - 60_000 });
    const d = await requestEvents(ctx, ven);
    const ids = (d.events ?? []).map((e) => e.descriptor.eventId);
    const want = [active.eventId, early.eventId, late.eventId];
    t.check(JSON.stringify(ids.filter((i) => want.includes(i))) === JSON.stringify(want), 'the events are not ordered active first, then pending by dtstart', { expected: want.join(', '), actual: ids.join(', ') });
  }),
  c('R27-reply-limit', 'oadrRequestEvent with replyLimit 1 gets at most one event', async (ctx, t) => {
    const { ven } = await withEvent(ctx, t);
    await issueEvent(ctx, t, ven, { startMs: Math.ceil((Date.now() + (ctx.eventLeadMinutes + 60) * 60_000) / 60_000) * 60_000 });
    const d = await requestEvents(ctx, ven, 1);
    t.check((d.events ?? []).length === 1, 'replyLimit 1 did not give exactly one event', { expected: '1', actual: String((d.events ?? []).length) });
  }),
  c('R50-all-pending-events', "every oadrDistributeEvent carries all of the VEN's pending events", async (ctx, t) => {
    const { ven, eventId } = await withEvent(ctx, t);
    const second = await issueEvent(ctx, t, ven, { startMs: Math.ceil((Date.now() + (ctx.eventLeadMinutes + 60) * 60_000) / 60_000) * 60_000 });
    const ids = (second.distribute.events ?? []).map((e) => e.descriptor.eventId);
    t.check(ids.includes(eventId) && ids.includes(second.eventId), 'the oadrDistributeEvent after the second event left the first one out', { expected: `${eventId}, ${second.eventId}`, actual: ids.join(', ') });
  }),
  c('R50+R36-acknowledged-cancel-dropped', 'a cancelled event the VEN acknowledged is left out of the next oadrDistributeEvent', async (ctx, t) => {
    const { ven, event, eventId } = await withEvent(ctx, t);
    await order(ctx, t, 'cancel-event', { venId: ven.venId, eventId });
    const d = await delivered(ctx, t, ven, 'DistributeEvent', (p) => (p.events ?? []).some((e) => e.descriptor.eventId === eventId && e.descriptor.eventStatus === 'cancelled'));
    const m = (d.events ?? []).find((e) => e.descriptor.eventId === eventId) ?? event;
    const ack = expectPayload(await send(ctx, 'EiEvent', build.createdEvent(ven.venId, [{ eventId, modificationNumber: m.descriptor.modificationNumber, requestId: d.requestId, optType: 'optIn' }])), 'Response', 'oadrCreatedEvent');
    t.check(ack.response.code === 200, 'the acknowledgement of the cancellation was refused', { actual: String(ack.response.code) });
    const after = await requestEvents(ctx, ven);
    t.check(!(after.events ?? []).some((e) => e.descriptor.eventId === eventId), 'the acknowledged cancelled event is still sent (R36, R50)');
  }),
  c('R52-unacknowledged-cancel-resent', 'a cancelled event the VEN has not acknowledged is still in the next oadrDistributeEvent', async (ctx, t) => {
    const { ven, eventId } = await withEvent(ctx, t);
    await order(ctx, t, 'cancel-event', { venId: ven.venId, eventId });
    await delivered(ctx, t, ven, 'DistributeEvent', (p) => (p.events ?? []).some((e) => e.descriptor.eventId === eventId && e.descriptor.eventStatus === 'cancelled'));
    const after = await requestEvents(ctx, ven);
    t.check((after.events ?? []).some((e) => e.descriptor.eventId === eventId && e.descriptor.eventStatus === 'cancelled'), 'the unacknowledged cancellation is no longer sent');
  }),
  c('R48-unknown-event-id', 'oadrCreatedEvent naming an unknown eventID gets oadrResponse 452', async (ctx, t) => {
    const ven = await register(ctx, t);
    const a = expectPayload(await send(ctx, 'EiEvent', build.createdEvent(ven.venId, [{ eventId: 'no-such-event', modificationNumber: 0, requestId: 'rq' }])), 'Response', 'oadrCreatedEvent');
    t.check(a.response.code === 452, 'an unknown eventID is not refused with 452', { expected: '452', actual: String(a.response.code) });
  }),
  c('R48-stale-modification-number', 'oadrCreatedEvent with a modificationNumber the event does not have gets oadrResponse 450', async (ctx, t) => {
    const { ven, event, eventId, requestId } = await withEvent(ctx, t);
    const a = expectPayload(await send(ctx, 'EiEvent', build.createdEvent(ven.venId, [{ eventId, modificationNumber: event.descriptor.modificationNumber + 5, requestId }])), 'Response', 'oadrCreatedEvent');
    t.check(a.response.code === 450, 'a wrong modificationNumber is not refused with 450', { expected: '450', actual: String(a.response.code) });
  }),
  c('R42+R16-created-event', 'oadrCreatedEvent with an empty eiResponse requestID and requestIDs inside eventResponses gets oadrResponse 200', async (ctx, t) => {
    const { ven, event, eventId, requestId } = await withEvent(ctx, t);
    const a = expectPayload(await send(ctx, 'EiEvent', build.createdEvent(ven.venId, [{ eventId, modificationNumber: event.descriptor.modificationNumber, requestId }])), 'Response', 'oadrCreatedEvent');
    t.check(a.response.code === 200, 'a valid oadrCreatedEvent was refused', { expected: '200', actual: String(a.response.code) });
  }),
  c('R17-later-opt-out', 'an optOut after an optIn for the same event is accepted', async (ctx, t) => {
    const { ven, event, eventId, requestId } = await withEvent(ctx, t);
    const q = { eventId, modificationNumber: event.descriptor.modificationNumber, requestId };
    expectPayload(await send(ctx, 'EiEvent', build.createdEvent(ven.venId, [{ ...q, optType: 'optIn' }])), 'Response', 'oadrCreatedEvent optIn');
    const a = expectPayload(await send(ctx, 'EiEvent', build.createdEvent(ven.venId, [{ ...q, optType: 'optOut' }])), 'Response', 'oadrCreatedEvent optOut');
    t.check(a.response.code === 200, 'a later optOut was refused', { expected: '200', actual: String(a.response.code) });
  }),
  c('R25-created-event-error', 'oadrCreatedEvent whose eiResponse reports an error, without eventResponses, is acknowledged', async (ctx, t) => {
    const ven = await register(ctx, t);
    const p = { type: 'CreatedEvent', schemaVersion: '2.0b', response: { code: 454, description: 'cannot process', requestId: '' }, venId: ven.venId } as const;
    const a = expectPayload(await send(ctx, 'EiEvent', p), 'Response', 'oadrCreatedEvent with an error');
    t.check(a.response.code === 200 || (a.response.code >= 400 && a.response.code < 500), 'the answer carries no response code');
  }),
  c('R51-pull-not-pushed', 'an event for a pull VEN arrives by poll; the VTN sends the VEN no request', async (ctx, t) => {
    const { ven } = await withEvent(ctx, t, { durationMinutes: 15, values: [100] });
    t.check(!ctx.inbox.received.some((r) => r.venName === ven.name), 'the VTN pushed to a VEN that registered for pull');
  }, ['http-pull']),
  c('R12+R62-response-required-never', "an event issued with response 'never' says oadrResponseRequired never", async (ctx, t) => {
    const { event } = await withEvent(ctx, t, { responseRequired: 'never' });
    t.check(event.responseRequired === 'never', 'oadrResponseRequired is not never', { actual: event.responseRequired });
  }),
  c('R3-priority', 'an event issued with priority 2 carries priority 2', async (ctx, t) => {
    const { event } = await withEvent(ctx, t, { priority: 2 });
    t.check(event.descriptor.priority === 2, 'the priority was not carried over', { expected: '2', actual: String(event.descriptor.priority) });
  }),
  c('R30+R66-startafter', 'an event issued with a randomisation window carries it as tolerance/startafter', async (ctx, t) => {
    const { event } = await withEvent(ctx, t, { startAfterMs: 600_000 });
    t.check(event.activePeriod.startAfter !== undefined && ms(event.activePeriod.startAfter) === 600_000, 'startafter is not PT10M', { expected: 'PT10M', actual: event.activePeriod.startAfter ?? 'none' });
  }),
  c('R502-nothing-changed', 'a poll with nothing changed is answered (oadrResponse, or the full set again)', async (ctx, t) => {
    const { ven } = await withEvent(ctx, t);
    if (!ven.pull) t.skip('pull only');
    const a = await send(ctx, 'OadrPoll', build.poll(ven.venId));
    t.check(a.status === 200 && (a.payload?.type === 'Response' || a.payload?.type === 'DistributeEvent'), 'the poll was not answered with oadrResponse or oadrDistributeEvent', { actual: a.payload?.type ?? `HTTP ${a.status}` });
  }, ['http-pull']),
];
