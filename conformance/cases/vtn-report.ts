/** VTN side, EiReport (R300–R346): the VTN's metadata, its report requests, and the reports the suite's VENs send. */
import { durationToMs, type Payload, type PayloadOf, type Report, type ReportRequest } from '../../oadr/index.ts';
import { build, delivered, drain, expectPayload, needTwoVens, order, register, rid, send, type AsVen, type RegisteredVen } from '../as-ven.ts';
import { defineCase, type CaseControl, type CaseSpec } from '../runner.ts';

const c = (id: string, title: string, run: CaseSpec<AsVen>['run']): CaseSpec<AsVen> => defineCase(id, title, 'report', run);
const is4xx = (code: number): boolean => code >= 400 && code < 500;

/** The VTN's own oadrRegisterReport after a new registration (R309, R301). */
async function vtnMetadata(ctx: AsVen, t: CaseControl): Promise<PayloadOf<'RegisterReport'>> {
  const ven = await register(ctx, t, { metadata: false });
  return delivered(ctx, t, ven, 'RegisterReport');
}

/** A check of each report of the VTN's metadata; skipped when the VTN offers none (then oadrReport is rightly absent, R305). */
const metadataCase = (id: string, title: string, check: (r: Report, t: CaseControl) => void): CaseSpec<AsVen> =>
  c(id, title, async (ctx, t) => {
    const reports = (await vtnMetadata(ctx, t)).reports ?? [];
    if (reports.length === 0) t.skip('the VTN offers no reports: its metadata rightly has no oadrReport (R305)');
    for (const r of reports) check(r, t);
  });

/** The report requests the VTN makes of a VEN with the suite's metadata: piggy-backed (R344) or by oadrCreateReport (through the adapter). */
async function requestsOf(ctx: AsVen, t: CaseControl): Promise<{ ven: RegisteredVen; requests: readonly ReportRequest[] }> {
  const ven = await register(ctx, t);
  await drain(ctx, ven);
  if (ven.requests.length > 0) return { ven, requests: ven.requests };
  await order(ctx, t, 'request-report', { venId: ven.venId });
  const p = await delivered(ctx, t, ven, 'CreateReport');
  return { ven, requests: p.reportRequests };
}

const ms = (d: string): number => durationToMs(d, Date.UTC(2000, 0, 1));

/** A data report for one request, in the suite's metadata: intervals of the request's granularity (one minute if 0), oldest first. */
function updateFor(ven: RegisteredVen, q: ReportRequest, reportRequestId = q.reportRequestId): Payload {
  const g = Math.max(60_000, ms(q.specifier.granularity));
  const end = Math.floor(Date.now() / g) * g;
  const rIds = q.specifier.specifierPayloads.map((s) => s.rId);
  const status = q.specifier.reportSpecifierId === 'status-spec';
  const intervals = [0, 1].map((i) => ({
    dtstart: new Date(end - (2 - i) * g).toISOString(),
    duration: `PT${g / 60_000}M`,
    payloads: rIds.map((rId) => ({ rId, value: status ? { type: 'resourceStatus' as const, online: true, manualOverride: false } : { type: 'float' as const, value: 1000 + i } })),
  }));
  return {
    type: 'UpdateReport',
    schemaVersion: '2.0b',
    requestId: rid('up'),
    venId: ven.venId,
    reports: [
      {
        dtstart: intervals[0]?.dtstart as string,
        duration: `PT${(2 * g) / 60_000}M`,
        intervals,
        reportRequestId,
        reportSpecifierId: q.specifier.reportSpecifierId,
        reportName: status ? 'TELEMETRY_STATUS' : 'TELEMETRY_USAGE',
        createdDateTime: new Date().toISOString(),
      },
    ],
  };
}

export const vtnReportCases: readonly CaseSpec<AsVen>[] = [
  c('R311-vtn-metadata-request-ids', "the VTN's unsolicited metadata has reportRequestID 0 on each report and none at the top", async (ctx, t) => {
    const m = await vtnMetadata(ctx, t);
    t.check(m.reportRequestId === undefined, 'unsolicited metadata carries a top-level reportRequestID', { actual: m.reportRequestId });
    for (const r of m.reports ?? []) t.check(r.reportRequestId === '0', `report ${r.reportSpecifierId}: reportRequestID is not 0`, { actual: r.reportRequestId });
  }),
  metadataCase('R305-vtn-metadata-descriptions', 'each metadata report has descriptions and no intervals or dtstart', (r, t) => {
    t.check((r.descriptions ?? []).length > 0, `report ${r.reportSpecifierId}: no oadrReportDescription`);
    t.check((r.intervals ?? []).length === 0 && r.dtstart === undefined, `report ${r.reportSpecifierId}: metadata with intervals or dtstart`);
  }),
  metadataCase('R308-vtn-metadata-unique-ids', 'rIDs are unique within each reportSpecifierID', (r, t) => {
    const ids = (r.descriptions ?? []).map((d) => d.rId);
    t.check(new Set(ids).size === ids.length, `report ${r.reportSpecifierId}: repeated rIDs`, { actual: ids.join(', ') });
  }),
  metadataCase('R312+R333-vtn-metadata-sampling', 'each metadata report has a duration; oadrMaxPeriod ≤ duration; TELEMETRY descriptions have oadrSamplingRate', (r, t) => {
    t.check(r.duration !== undefined, `report ${r.reportSpecifierId}: no duration (R312)`);
    for (const d of r.descriptions ?? []) {
      if (r.reportName?.startsWith('METADATA_TELEMETRY_') === true) t.check(d.samplingRate !== undefined, `report ${r.reportSpecifierId} rID ${d.rId}: no oadrSamplingRate (R333)`, { ruleIds: ['R333'] });
      if (d.samplingRate !== undefined && r.duration !== undefined && ms(r.duration) > 0) t.check(ms(d.samplingRate.maxPeriod) <= ms(r.duration), `report ${r.reportSpecifierId} rID ${d.rId}: oadrMaxPeriod is longer than the duration (R312)`, { ruleIds: ['R312'] });
    }
  }),
  metadataCase('R331-vtn-metadata-names', 'metadata report names carry the METADATA_ prefix', (r, t) => {
    t.check(r.reportName === undefined || r.reportName.startsWith('METADATA_'), `report ${r.reportSpecifierId}: reportName ${r.reportName ?? ''} without METADATA_`);
  }),
  c('R303+R309-registered-report', "the VEN's metadata is acknowledged with oadrRegisteredReport 200 echoing the requestID", async (ctx, t) => {
    const ven = await register(ctx, t, { metadata: false });
    const m = build.metadata(ven.venId) as PayloadOf<'RegisterReport'>;
    const a = expectPayload(await send(ctx, 'EiReport', m), 'RegisteredReport', 'oadrRegisterReport');
    t.check(a.response.code === 200, 'the metadata was refused', { actual: String(a.response.code) });
    t.check(a.response.requestId === m.requestId, 'oadrRegisteredReport does not echo the requestID (R303)', { expected: m.requestId, actual: a.response.requestId });
  }),
  c('R300+R344-requests-match-metadata', 'the reports the VTN requests name report specifiers and rIDs of the VEN’s metadata', async (ctx, t) => {
    const { requests } = await requestsOf(ctx, t);
    const offered: Record<string, readonly string[]> = { 'usage-spec': ['usage'], 'status-spec': ['status'] };
    for (const q of requests) {
      const rIds = offered[q.specifier.reportSpecifierId];
      t.check(rIds !== undefined || q.specifier.reportSpecifierId === 'METADATA', `request ${q.reportRequestId} names reportSpecifierID ${q.specifier.reportSpecifierId}, which the metadata did not offer`);
      for (const s of q.specifier.specifierPayloads) if (rIds !== undefined) t.check(rIds.includes(s.rId), `request ${q.reportRequestId} asks for rID ${s.rId}, not in the metadata`);
    }
  }),
  c('R321+R338-request-shape', 'report requests: readingType x-notApplicable, no itemBase, no tolerance, notification, ramp-up or recovery', async (ctx, t) => {
    const { requests } = await requestsOf(ctx, t);
    for (const q of requests) {
      for (const s of q.specifier.specifierPayloads) {
        t.check(s.readingType === 'x-notApplicable', `request ${q.reportRequestId}: readingType ${s.readingType} (R338)`, { ruleIds: ['R338'], expected: 'x-notApplicable' });
        t.check(s.itemBase === undefined, `request ${q.reportRequestId}: a specifierPayload with itemBase (R321)`, { ruleIds: ['R321'] });
      }
      const p = q.specifier.reportInterval;
      if (p !== undefined) t.check(p.startAfter === undefined && p.notification === undefined && p.rampUp === undefined && p.recovery === undefined, `request ${q.reportRequestId}: reportInterval with tolerance, notification, ramp-up or recovery (R321)`, { ruleIds: ['R321'] });
    }
  }),
  c('R322-request-ids-unique', 'report requests to two VENs carry distinct reportRequestIDs', async (ctx, t) => {
    needTwoVens(ctx, t);
    const a = await requestsOf(ctx, t);
    const b = await requestsOf(ctx, t);
    const ids = [...a.requests, ...b.requests].map((q) => q.reportRequestId);
    t.check(new Set(ids).size === ids.length, 'two report requests share a reportRequestID', { actual: ids.join(', ') });
  }),
  c('§8.3.2+R303-updated-report', 'a data report for a request is acknowledged with oadrUpdatedReport 200 echoing the requestID', async (ctx, t) => {
    const { ven, requests } = await requestsOf(ctx, t);
    const q = requests.find((r) => r.specifier.reportSpecifierId === 'usage-spec') ?? requests[0];
    if (q === undefined) return t.skip('the VTN requested no report');
    const u = updateFor(ven, q) as PayloadOf<'UpdateReport'>;
    const a = expectPayload(await send(ctx, 'EiReport', u), 'UpdatedReport', 'oadrUpdateReport');
    t.check(a.response.code === 200, 'the data report was refused', { actual: `${a.response.code} ${a.response.description ?? ''}` });
    t.check(a.response.requestId === u.requestId, 'oadrUpdatedReport does not echo the requestID (R303)', { ruleIds: ['R303'], expected: u.requestId, actual: a.response.requestId });
  }),
  c('R304-update-report-unknown-request', 'a data report for a reportRequestID the VTN never issued gets oadrUpdatedReport 452', async (ctx, t) => {
    const { ven, requests } = await requestsOf(ctx, t);
    const q = requests[0];
    if (q === undefined) return t.skip('the VTN requested no report');
    const a = expectPayload(await send(ctx, 'EiReport', updateFor(ven, q, 'never-requested')), 'UpdatedReport', 'oadrUpdateReport');
    t.check(is4xx(a.response.code), 'a report for an unknown reportRequestID was accepted', { expected: '452', actual: String(a.response.code) });
  }),
  c('R327+R311-metadata-on-request', "oadrCreateReport for METADATA is confirmed, then the VTN's oadrRegisterReport carries the request's reportRequestID at the top", async (ctx, t) => {
    const ven = await register(ctx, t);
    await drain(ctx, ven);
    const reportRequestId = rid('meta');
    const req: Payload = {
      type: 'CreateReport',
      schemaVersion: '2.0b',
      requestId: rid('cr'),
      venId: ven.venId,
      reportRequests: [{ reportRequestId, specifier: { reportSpecifierId: 'METADATA', granularity: 'PT0S', reportBackDuration: 'PT0S', specifierPayloads: [{ rId: '0', readingType: 'x-notApplicable' }] } }],
    };
    const from = ctx.inbox.received.length;
    const a = expectPayload(await send(ctx, 'EiReport', req), 'CreatedReport', 'oadrCreateReport METADATA');
    t.check(a.response.code === 200, 'the METADATA request was refused', { actual: String(a.response.code) });
    const m = await delivered(ctx, t, ven, 'RegisterReport', () => true, { from });
    t.check(m.reportRequestId === reportRequestId, 'the metadata sent on request does not carry its reportRequestID at the top (R311)', { ruleIds: ['R311'], expected: reportRequestId, actual: m.reportRequestId ?? 'none' });
  }),
  c('R336-cancel-unknown-report', 'oadrCancelReport for a reportRequestID the VTN does not have gets oadrCanceledReport with a 4xx', async (ctx, t) => {
    const ven = await register(ctx, t);
    const p: Payload = { type: 'CancelReport', schemaVersion: '2.0b', requestId: rid('cx'), reportRequestIds: ['never-requested'], reportToFollow: false, venId: ven.venId };
    const a = expectPayload(await send(ctx, 'EiReport', p), 'CanceledReport', 'oadrCancelReport');
    t.check(is4xx(a.response.code), 'cancelling an unknown report was not refused', { expected: '4xx', actual: String(a.response.code) });
  }),
  c('R306-new-metadata-rerequests', 'new metadata from the VEN cancels the running requests, and the VTN requests again what it wants', async (ctx, t) => {
    const ven = await register(ctx, t);
    if (ven.requests.length === 0) t.skip('the VTN requested nothing at registration (piggy-backed on oadrRegisteredReport)');
    await drain(ctx, ven);
    const a = expectPayload(await send(ctx, 'EiReport', build.metadata(ven.venId)), 'RegisteredReport', 'new metadata');
    let again = a.reportRequests ?? [];
    if (again.length === 0) again = (await delivered(ctx, t, ven, 'CreateReport')).reportRequests;
    t.check(again.length > 0, 'the VTN did not request its reports again after new metadata');
  }),
];
