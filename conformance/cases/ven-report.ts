/** VEN side, EiReport (R300–R346): the VEN's metadata, report requests the suite makes, the reports that follow. */
import { durationToMs, type Payload, type PayloadOf, type Report, type ReportRequest } from '../../oadr/index.ts';
import { answerTo, fromVen, registered, type AsVtn } from '../as-vtn.ts';
import { defineCase, PeerMisbehaved, type CaseControl, type CaseSpec } from '../runner.ts';

const c = (id: string, title: string, run: CaseSpec<AsVtn>['run']): CaseSpec<AsVtn> => defineCase(id, title, 'report', run);
const is4xx = (code: number): boolean => code >= 400 && code < 500;
const ms = (d: string): number => durationToMs(d, Date.UTC(2000, 0, 1));

/** The VEN's unsolicited metadata (R309, R301): the first oadrRegisterReport since its registration. */
async function venMetadata(ctx: AsVtn, t: CaseControl): Promise<PayloadOf<'RegisterReport'>> {
  await registered(ctx, t);
  const since = ctx.sim.received.findLastIndex((r) => r.payload.type === 'CreatePartyRegistration');
  return fromVen(ctx, t, 'RegisterReport', Math.max(0, since), (p) => p.reportRequestId === undefined);
}

const metadataCase = (id: string, title: string, check: (r: Report, t: CaseControl, all: readonly Report[]) => void): CaseSpec<AsVtn> =>
  c(id, title, async (ctx, t) => {
    const reports = (await venMetadata(ctx, t)).reports ?? [];
    if (reports.length === 0) t.fail({ message: 'the VEN offers no report; every B VEN offers TELEMETRY_STATUS (R510)', ruleIds: ['R510'] });
    for (const r of reports) check(r, t, reports);
  });

let serial = 0;
/** A request for one report the VEN offers (by metadata name), with the VEN's rIDs. */
async function requestFor(ctx: AsVtn, t: CaseControl, name: string, o: { granularity?: string; backDuration?: string; specifierId?: string; rIds?: readonly string[] } = {}): Promise<ReportRequest> {
  const meta = await venMetadata(ctx, t);
  const r = (meta.reports ?? []).find((x) => x.reportName === name);
  if (r === undefined && o.specifierId === undefined) t.skip(`the VEN does not offer ${name}`);
  const start = Math.floor(Date.now() / 60_000) * 60_000;
  return {
    reportRequestId: `conf-rr-${Date.now().toString(36)}-${++serial}`,
    specifier: {
      reportSpecifierId: o.specifierId ?? (r?.reportSpecifierId as string),
      granularity: o.granularity ?? 'PT1M',
      reportBackDuration: o.backDuration ?? 'PT0S',
      reportInterval: { dtstart: new Date(start).toISOString(), duration: 'PT1H' },
      specifierPayloads: (o.rIds ?? (r?.descriptions ?? []).map((d) => d.rId)).map((rId) => ({ rId, readingType: 'x-notApplicable' as const })),
    },
  };
}

const createReport = (ctx: AsVtn, requests: readonly ReportRequest[], requestId = `conf-cr-${++serial}`): Payload => ({
  type: 'CreateReport',
  schemaVersion: '2.0b',
  requestId,
  reportRequests: [...requests],
  ...(ctx.sim.registration === undefined ? {} : { venId: ctx.sim.registration.venId }),
});

/** Requests a one-shot report and returns the confirmation and the oadrUpdateReport that follows. */
async function oneShot(ctx: AsVtn, t: CaseControl, name: string): Promise<{ request: ReportRequest; created: PayloadOf<'CreatedReport'>; update: PayloadOf<'UpdateReport'> }> {
  const request = await requestFor(ctx, t, name);
  const from = ctx.sim.received.length;
  const created = await answerTo(ctx, t, createReport(ctx, [request]), 'CreatedReport', from);
  if (created.response.code !== 200) throw new PeerMisbehaved(`the VEN refused the request for ${name} with ${created.response.code} ${created.response.description ?? ''}`);
  const update = await fromVen(ctx, t, 'UpdateReport', from, (p) => (p.reports ?? []).some((r) => r.reportRequestId === request.reportRequestId));
  return { request, created, update };
}

const reportOf = (u: PayloadOf<'UpdateReport'>, q: ReportRequest): Report | undefined => (u.reports ?? []).find((r) => r.reportRequestId === q.reportRequestId);

export const venReportCases: readonly CaseSpec<AsVtn>[] = [
  c('R309+R301-ven-metadata', 'after registering, the VEN sends its metadata (oadrRegisterReport)', async (ctx, t) => {
    const m = await venMetadata(ctx, t);
    t.check(m.type === 'RegisterReport', 'no metadata after registration');
  }),
  metadataCase('R510-telemetry-status-offered', 'the metadata offers TELEMETRY_STATUS', (_r, t, all) => {
    t.check(all.some((x) => x.reportName === 'METADATA_TELEMETRY_STATUS'), 'METADATA_TELEMETRY_STATUS is not offered');
  }),
  metadataCase('R305+R311-ven-metadata-shape', 'each metadata report: descriptions, reportRequestID 0, no intervals or dtstart', (r, t) => {
    t.check((r.descriptions ?? []).length > 0, `report ${r.reportSpecifierId}: no oadrReportDescription (R305)`, { ruleIds: ['R305'] });
    t.check((r.intervals ?? []).length === 0 && r.dtstart === undefined, `report ${r.reportSpecifierId}: metadata with intervals or dtstart (R305)`, { ruleIds: ['R305'] });
    t.check(r.reportRequestId === '0', `report ${r.reportSpecifierId}: reportRequestID ${r.reportRequestId}, not 0 (R311)`, { ruleIds: ['R311'] });
    for (const d of r.descriptions ?? []) if (r.reportName !== 'METADATA_TELEMETRY_STATUS') t.check(d.itemBase !== undefined, `report ${r.reportSpecifierId} rID ${d.rId}: no itemBase (R305)`, { ruleIds: ['R305'] });
  }),
  metadataCase('R308-ven-metadata-unique-ids', 'reportSpecifierIDs unique; rIDs unique within each', (r, t, all) => {
    const specs = all.map((x) => x.reportSpecifierId);
    t.check(new Set(specs).size === specs.length, 'repeated reportSpecifierIDs', { actual: specs.join(', ') });
    const ids = (r.descriptions ?? []).map((d) => d.rId);
    t.check(new Set(ids).size === ids.length, `report ${r.reportSpecifierId}: repeated rIDs`);
  }),
  metadataCase('R312+R333-ven-metadata-sampling', 'each report has a duration, oadrMaxPeriod ≤ duration, TELEMETRY descriptions have oadrSamplingRate', (r, t) => {
    t.check(r.duration !== undefined, `report ${r.reportSpecifierId}: no duration (R312)`, { ruleIds: ['R312'] });
    for (const d of r.descriptions ?? []) {
      if (r.reportName?.startsWith('METADATA_TELEMETRY_') === true) t.check(d.samplingRate !== undefined, `report ${r.reportSpecifierId} rID ${d.rId}: no oadrSamplingRate (R333)`, { ruleIds: ['R333'] });
      if (d.samplingRate !== undefined && r.duration !== undefined && ms(r.duration) > 0) t.check(ms(d.samplingRate.maxPeriod) <= ms(r.duration), `report ${r.reportSpecifierId}: oadrMaxPeriod longer than the duration (R312)`, { ruleIds: ['R312'] });
    }
  }),
  metadataCase('R331-ven-metadata-table', 'well-known reports have the METADATA_ prefix and the reportType, units and readingType of the table', (r, t) => {
    t.check(r.reportName === undefined || r.reportName.startsWith('METADATA_'), `report ${r.reportSpecifierId}: no METADATA_ prefix`);
    for (const d of r.descriptions ?? []) {
      if (r.reportName === 'METADATA_TELEMETRY_USAGE' || r.reportName === 'METADATA_HISTORY_USAGE') {
        t.check(d.reportType === 'usage', `${r.reportName} rID ${d.rId}: reportType ${d.reportType}`, { expected: 'usage' });
        t.check(d.itemBase === undefined || ['powerReal', 'energyReal', 'pulseCount'].includes(d.itemBase.type), `${r.reportName} rID ${d.rId}: units ${d.itemBase?.type ?? ''}`, { expected: 'powerReal | energyReal | pulseCount' });
        t.check(d.readingType === 'Direct Read', `${r.reportName} rID ${d.rId}: readingType ${d.readingType}`, { expected: 'Direct Read' });
      }
      if (r.reportName === 'METADATA_TELEMETRY_STATUS') {
        t.check(d.reportType === 'x-resourceStatus', `TELEMETRY_STATUS rID ${d.rId}: reportType ${d.reportType}`, { expected: 'x-resourceStatus' });
        t.check(d.readingType === 'x-notApplicable', `TELEMETRY_STATUS rID ${d.rId}: readingType ${d.readingType}`, { expected: 'x-notApplicable' });
      }
    }
  }),
  c('R303+R329+R324-one-shot-usage', 'a one-shot TELEMETRY_USAGE request: oadrCreatedReport 200 echoing the requestID, then one oadrUpdateReport', async (ctx, t) => {
    const { created } = await oneShot(ctx, t, 'METADATA_TELEMETRY_USAGE');
    t.check(created.response.requestId.startsWith('conf-cr-'), 'oadrCreatedReport does not echo the requestID (R303)', { ruleIds: ['R303'], actual: created.response.requestId });
  }),
  c('R313-data-report-shape', 'a data report: dtstart, intervals, reportName without METADATA_, no descriptions', async (ctx, t) => {
    const { update, request } = await oneShot(ctx, t, 'METADATA_TELEMETRY_STATUS');
    const r = reportOf(update, request);
    t.check(r?.dtstart !== undefined, 'the data report has no dtstart (R314)');
    t.check((r?.intervals ?? []).length > 0, 'the data report has no intervals');
    t.check(r?.reportName === undefined || !r.reportName.startsWith('METADATA_'), 'the data report name keeps METADATA_', { actual: r?.reportName });
    t.check((r?.descriptions ?? []).length === 0, 'the data report carries oadrReportDescription');
  }),
  c('R510+R334-telemetry-status-values', 'TELEMETRY_STATUS data carries oadrOnline and oadrManualOverride', async (ctx, t) => {
    const { update, request } = await oneShot(ctx, t, 'METADATA_TELEMETRY_STATUS');
    const payloads = (reportOf(update, request)?.intervals ?? []).flatMap((i) => i.payloads);
    t.check(payloads.length > 0 && payloads.every((p) => p.value.type === 'resourceStatus'), 'TELEMETRY_STATUS data is not oadrPayloadResourceStatus with oadrOnline and oadrManualOverride');
  }),
  c('R314+R316+R342-interval-order', 'report intervals run oldest first, uids 0, 1, … where intervals have no dtstart, never a forbidden dtstart/duration combination', async (ctx, t) => {
    await registered(ctx, t);
    const updates = ctx.sim.received.filter((r) => r.payload.type === 'UpdateReport').map((r) => r.payload as PayloadOf<'UpdateReport'>);
    if (updates.length === 0) await oneShot(ctx, t, 'METADATA_TELEMETRY_STATUS');
    for (const u of ctx.sim.received.filter((r) => r.payload.type === 'UpdateReport').map((r) => r.payload as PayloadOf<'UpdateReport'>)) {
      for (const r of u.reports ?? []) {
        const iv = r.intervals ?? [];
        const starts = iv.map((i) => (i.dtstart === undefined ? undefined : Date.parse(i.dtstart)));
        if (starts.every((s) => s !== undefined)) t.check(starts.every((s, k) => k === 0 || (s as number) >= (starts[k - 1] as number)), `report ${r.reportRequestId}: intervals are not oldest first (R314)`, { ruleIds: ['R314'], actual: iv.map((i) => i.dtstart).join(', ') });
        else t.check(iv.every((i, k) => i.uid === String(k)), `report ${r.reportRequestId}: intervals without dtstart do not have uids 0, 1, … (R316)`, { ruleIds: ['R316'] });
        t.check(r.dtstart === undefined || starts[0] === undefined || Date.parse(r.dtstart) === starts[0], `report ${r.reportRequestId}: report dtstart is not the first interval's (R314)`, { ruleIds: ['R314'] });
        const some = iv.some((i) => i.dtstart !== undefined);
        t.check(!some || iv.every((i) => i.dtstart !== undefined), `report ${r.reportRequestId}: some intervals have a dtstart and others not (R314)`, { ruleIds: ['R314'] });
      }
    }
  }),
  c('R327+R311-metadata-on-request', 'oadrCreateReport for METADATA: oadrCreatedReport, then oadrRegisterReport with the reportRequestID at the top', async (ctx, t) => {
    await registered(ctx, t);
    const reportRequestId = `conf-meta-${++serial}`;
    const q: ReportRequest = { reportRequestId, specifier: { reportSpecifierId: 'METADATA', granularity: 'PT0S', reportBackDuration: 'PT0S', specifierPayloads: [{ rId: '0', readingType: 'x-notApplicable' }] } };
    const from = ctx.sim.received.length;
    const created = await answerTo(ctx, t, createReport(ctx, [q]), 'CreatedReport', from);
    t.check(created.response.code === 200, 'the METADATA request was refused', { actual: String(created.response.code) });
    const m = await fromVen(ctx, t, 'RegisterReport', from);
    t.check(m.reportRequestId === reportRequestId, 'the metadata sent on request lacks its reportRequestID at the top (R311)', { ruleIds: ['R311'], expected: reportRequestId, actual: m.reportRequestId ?? 'none' });
  }),
  c('R304-unknown-report-specifier', 'oadrCreateReport naming a reportSpecifierID the VEN never offered gets 452 (or a 4xx)', async (ctx, t) => {
    const q = await requestFor(ctx, t, 'none', { specifierId: 'no-such-specifier', rIds: ['x'] });
    const created = await answerTo(ctx, t, createReport(ctx, [q]), 'CreatedReport', ctx.sim.received.length);
    t.check(is4xx(created.response.code), 'a request for an unknown report was accepted', { expected: '452', actual: String(created.response.code) });
  }),
  c('R304+R300-unknown-rid', 'oadrCreateReport asking for an rID absent from the metadata gets a 4xx', async (ctx, t) => {
    const q = await requestFor(ctx, t, 'METADATA_TELEMETRY_STATUS', { rIds: ['no-such-rid'] });
    const created = await answerTo(ctx, t, createReport(ctx, [q]), 'CreatedReport', ctx.sim.received.length);
    t.check(is4xx(created.response.code), 'a request for an unknown rID was accepted', { expected: '452', actual: String(created.response.code) });
  }),
  c('R336-cancel-unknown-report', 'oadrCancelReport with an unknown reportRequestID gets oadrCanceledReport with a 4xx', async (ctx, t) => {
    const reg = await registered(ctx, t);
    const p: Payload = { type: 'CancelReport', schemaVersion: '2.0b', requestId: `conf-cx-${++serial}`, reportRequestIds: ['never-requested'], reportToFollow: false, venId: reg.venId };
    const a = await answerTo(ctx, t, p, 'CanceledReport', ctx.sim.received.length);
    t.check(is4xx(a.response.code), 'cancelling an unknown report was not refused', { expected: '4xx', actual: String(a.response.code) });
  }),
  c('R329-cancel-periodic', 'two periodic reports, one cancelled: oadrCanceledReport 200 lists only the other as pending', async (ctx, t) => {
    const reg = await registered(ctx, t);
    const a = await requestFor(ctx, t, 'METADATA_TELEMETRY_STATUS', { granularity: 'PT1M', backDuration: 'PT5M' });
    const b = await requestFor(ctx, t, 'METADATA_TELEMETRY_STATUS', { granularity: 'PT1M', backDuration: 'PT5M' });
    const created = await answerTo(ctx, t, createReport(ctx, [a, b]), 'CreatedReport', ctx.sim.received.length);
    t.check(created.response.code === 200, 'the periodic requests were refused', { actual: String(created.response.code) });
    t.check(a.reportRequestId !== b.reportRequestId && (created.pendingReports ?? []).includes(a.reportRequestId) && (created.pendingReports ?? []).includes(b.reportRequestId), 'oadrCreatedReport does not list both periodic requests as pending (R329)', { actual: (created.pendingReports ?? []).join(', ') });
    const cancel: Payload = { type: 'CancelReport', schemaVersion: '2.0b', requestId: `conf-cx-${++serial}`, reportRequestIds: [a.reportRequestId], reportToFollow: false, venId: reg.venId };
    const x = await answerTo(ctx, t, cancel, 'CanceledReport', ctx.sim.received.length);
    t.check(x.response.code === 200, 'the cancellation was refused', { actual: String(x.response.code) });
    t.check(!(x.pendingReports ?? []).includes(a.reportRequestId) && (x.pendingReports ?? []).includes(b.reportRequestId), 'oadrCanceledReport does not list exactly the remaining report as pending', { expected: b.reportRequestId, actual: (x.pendingReports ?? []).join(', ') });
    await answerTo(ctx, t, { ...cancel, requestId: `conf-cx-${++serial}`, reportRequestIds: [b.reportRequestId] }, 'CanceledReport', ctx.sim.received.length);
  }),
];
