/**
 * VEN side, EiOpt (R200–R211): the suite, as the VTN, has the VEN under test send availability
 * schedules, event opts and cancellations through its adapter (a hook command or the operator;
 * without one these cases are skipped), and checks the oadrCreateOpt / oadrCancelOpt that arrive.
 * What a VEN must not send (an opt on a `never` event, a cancel of an event's opt) is judged when
 * a later marker schedule arrives: nothing forbidden came before it.
 */
import { durationToMs, type OadrEvent, type PayloadOf } from '../../oadr/index.ts';
import type { AdapterOrder } from '../adapters/adapter.ts';
import { order } from '../as-ven.ts';
import { fromVen, makeEvent, registered, type AsVtn } from '../as-vtn.ts';
import { CaseSkipped, defineCase, type CaseControl, type CaseSpec } from '../runner.ts';
import { send } from './ven-event.ts';

const c = (id: string, title: string, run: CaseSpec<AsVtn>['run']): CaseSpec<AsVtn> => defineCase(id, title, 'opt', run);

type CreateOpt = PayloadOf<'CreateOpt'>;

let serial = 0;
const nextStart = (hours: number): number => Math.ceil((Date.now() + hours * 3_600_000) / 60_000) * 60_000;

/** Has the VEN send an availability schedule and returns its oadrCreateOpt (the first without a qualifiedEventID after `from`). */
async function schedule(ctx: AsVtn, t: CaseControl, o: Omit<AdapterOrder, 'venId'> = {}): Promise<{ opt: CreateOpt; startMs: number; from: number }> {
  const reg = await registered(ctx, t);
  const from = ctx.sim.received.length;
  const startMs = o.startMs ?? nextStart(2);
  await order(ctx, t, 'opt-schedule', { venId: reg.venId, optType: 'optOut', optId: `conf-opt-${++serial}`, startMs, durationMinutes: 60, ...o });
  // A VEN may send an earlier opt again (opts are idempotent, R204): the new schedule is the one with a new optID.
  const earlier = new Set(ctx.sim.received.slice(0, from).flatMap((r) => (r.payload.type === 'CreateOpt' ? [r.payload.optId] : [])));
  const opt = await fromVen(ctx, t, 'CreateOpt', from, (p) => p.qualifiedEventId === undefined && !earlier.has(p.optId));
  return { opt, startMs, from };
}

/** R204, R208: optID present, venID the VEN's own, and eiTarget naming it (§8.5.2). */
function identified(ctx: AsVtn, t: CaseControl, p: CreateOpt): void {
  const venId = ctx.sim.registration?.venId;
  t.check(p.optId !== '', 'oadrCreateOpt without an optID (R204)', { ruleIds: ['R204'] });
  t.check(p.venId === venId, 'oadrCreateOpt carries another venID (R208)', { ruleIds: ['R208'], expected: venId, actual: p.venId });
  t.check(venId !== undefined && (p.target.venIds ?? []).includes(venId), "eiTarget does not name the VEN's venID (R208, §8.5.2)", { ruleIds: ['R208'], expected: venId, actual: (p.target.venIds ?? []).join(', ') || 'no venID' });
}

/** Ids of what the VEN sent between `from` and `to` that match. */
const sentBetween = (ctx: AsVtn, from: number, to: number, match: (p: PayloadOf<'CreateOpt'> | PayloadOf<'CancelOpt'>) => boolean): string[] =>
  ctx.sim.received
    .slice(from, to)
    .flatMap((r) => (r.payload.type === 'CreateOpt' || r.payload.type === 'CancelOpt') && match(r.payload) ? [`oadr${r.payload.type} ${r.payload.optId}`] : []);

/** The index of the VEN's oadrCreateOpt for the schedule `p`. */
const indexOf = (ctx: AsVtn, p: CreateOpt): number => ctx.sim.received.findIndex((r) => r.payload === p);

/** Sends a new event (always), has the VEN opt out of it, and returns the event, its oadrCreateOpt and where the case began. */
async function optOutOfEvent(ctx: AsVtn, t: CaseControl): Promise<{ e: OadrEvent; opt: CreateOpt; from: number }> {
  const e = makeEvent(ctx);
  await send(ctx, t, [e]);
  const reg = await registered(ctx, t);
  const from = ctx.sim.received.length;
  await order(ctx, t, 'opt-event', { venId: reg.venId, eventId: e.descriptor.eventId, optType: 'optOut' });
  const opt = await fromVen(ctx, t, 'CreateOpt', from, (p) => p.qualifiedEventId?.eventId === e.descriptor.eventId);
  return { e, opt, from };
}

export const venOptCases: readonly CaseSpec<AsVtn>[] = [
  c('R200+R204+R208-availability-schedule', 'an availability schedule: oadrCreateOpt with optID, the venID in eiTarget, the window asked for, and no tolerance, notification, ramp-up or recovery in vavailability', async (ctx, t) => {
    const { opt, startMs } = await schedule(ctx, t);
    identified(ctx, t, opt);
    t.check(opt.optType === 'optOut', 'the schedule asked for optOut came as another optType', { expected: 'optOut', actual: opt.optType });
    const windows = opt.availability ?? [];
    t.check(windows.length > 0, 'an availability schedule without vavailability (R206: mandatory without an eventID)', { ruleIds: ['R206'] });
    for (const w of windows) {
      const extra = (['startAfter', 'notification', 'rampUp', 'recovery'] as const).filter((k) => w[k] !== undefined);
      t.check(extra.length === 0, `a vavailability window carries ${extra.join(', ')} (R200)`, { ruleIds: ['R200'], expected: 'dtstart and duration only', actual: extra.join(', ') });
    }
    const w = windows[0];
    t.check(w !== undefined && Date.parse(w.dtstart) === startMs && durationToMs(w.duration) === 3_600_000, 'the window is not the one asked for', { expected: `${new Date(startMs).toISOString()} PT1H`, actual: w === undefined ? 'none' : `${w.dtstart} ${w.duration}` });
  }),
  c('R210-open-ended-schedule', 'an open-ended availability window goes with duration 0', async (ctx, t) => {
    const { opt } = await schedule(ctx, t, { durationMinutes: 0 });
    const w = opt.availability?.[0];
    t.check(w !== undefined && durationToMs(w.duration) === 0, 'an open-ended window was not sent with duration 0 (R210)', { expected: 'PT0S', actual: w?.duration ?? 'no window' });
  }),
  c('R202-resource-schedule', "a schedule for one resource: eiTarget names the venID and that resource, from the VEN's own metadata", async (ctx, t) => {
    await registered(ctx, t);
    const resourceId = ctx.sim.received
      .flatMap((r) => (r.payload.type === 'RegisterReport' ? (r.payload.reports ?? []) : []))
      .flatMap((rep) => rep.descriptions ?? [])
      .flatMap((d) => d.reportDataSource?.resourceIds ?? [])[0];
    if (resourceId === undefined) return t.skip("the VEN's metadata names no resource (reportDataSource resourceID) to opt for");
    const { opt } = await schedule(ctx, t, { resourceId });
    identified(ctx, t, opt);
    t.check((opt.target.resourceIds ?? []).includes(resourceId), 'the schedule for one resource does not name it in eiTarget (R202)', { expected: resourceId, actual: (opt.target.resourceIds ?? []).join(', ') || 'no resourceID' });
  }),
  c('R206+R510-event-opt', "an opt out of an event: oadrCreateOpt with the event's qualifiedEventID, no vavailability and no marketContext", async (ctx, t) => {
    const { opt } = await optOutOfEvent(ctx, t);
    identified(ctx, t, opt);
    t.check(opt.optType === 'optOut', 'the opt-out came as another optType', { expected: 'optOut', actual: opt.optType });
    t.check(opt.qualifiedEventId?.modificationNumber === 0, 'qualifiedEventID does not carry the modificationNumber the VEN holds', { expected: '0', actual: String(opt.qualifiedEventId?.modificationNumber) });
    t.check((opt.availability ?? []).length === 0, 'an event opt carries vavailability (R206)');
    t.check(opt.marketContext === undefined, 'an event opt carries a marketContext (R206)', { actual: opt.marketContext });
  }),
  c('R206-no-opt-after-never', 'no oadrCreateOpt for an event last received with responseRequired never (judged when a later schedule arrives)', async (ctx, t) => {
    const quiet = makeEvent(ctx, { responseRequired: 'never' });
    const loud = makeEvent(ctx, { startMs: nextStart(2) });
    await send(ctx, t, [quiet, loud]);
    const reg = await registered(ctx, t);
    const from = ctx.sim.received.length;
    // The VEN may refuse the order (ours does): that is the rule kept.
    await order(ctx, t, 'opt-event', { venId: reg.venId, eventId: quiet.descriptor.eventId, optType: 'optOut' }).catch((err: unknown) => {
      if (err instanceof CaseSkipped) throw err;
    });
    const { opt } = await schedule(ctx, t, { startMs: nextStart(3) });
    const sent = sentBetween(ctx, from, indexOf(ctx, opt), (p) => p.type === 'CreateOpt' && p.qualifiedEventId?.eventId === quiet.descriptor.eventId);
    t.check(sent.length === 0, 'the VEN opted with oadrCreateOpt on an event it last received with responseRequired never (R206)', { expected: 'no oadrCreateOpt for it', actual: sent.join(', ') });
  }),
  c('R204+R211-cancel-schedule', 'cancelling a schedule: oadrCancelOpt with its optID and the venID', async (ctx, t) => {
    const { opt } = await schedule(ctx, t);
    const from = ctx.sim.received.length;
    await order(ctx, t, 'cancel-opt', { venId: opt.venId, optId: opt.optId });
    const cancel = await fromVen(ctx, t, 'CancelOpt', from, (p) => p.optId === opt.optId);
    t.check(cancel.venId === ctx.sim.registration?.venId, 'oadrCancelOpt carries another venID (R208)', { ruleIds: ['R208'], expected: ctx.sim.registration?.venId, actual: cancel.venId });
  }),
  c('R211-event-opt-not-cancelled', "after an event the VEN opted on is cancelled, the VEN sends no oadrCancelOpt for that opt's optID", async (ctx, t) => {
    const { e, opt, from } = await optOutOfEvent(ctx, t);
    await send(ctx, t, [makeEvent(ctx, { eventId: e.descriptor.eventId, modificationNumber: 1, status: 'cancelled' })]);
    const marker = await schedule(ctx, t, { startMs: nextStart(3) });
    const sent = sentBetween(ctx, from, indexOf(ctx, marker.opt), (p) => p.type === 'CancelOpt' && p.optId === opt.optId);
    t.check(sent.length === 0, "the VEN cancelled the optID that qualified an event (R211: an event's opt is never cancelled)", { expected: 'no oadrCancelOpt for it', actual: sent.join(', ') });
  }),
];
