/**
 * The VEN as report producer (rules digest 6): its metadata (TELEMETRY_USAGE, TELEMETRY_STATUS,
 * R331, R333), the sample buffer (≥ 100 points, R510), report requests (one-shot and periodic,
 * granularity and back-duration, R317, R324, R325, R341), cancellation (R336, R345) and the
 * pending list (R329). A pure state machine: samples and the clock come in, reports to send go out.
 */
import { durationToMs, formatDuration, ResponseCode, type RegisterReport, type Report, type ReportInterval, type ReportRequest, type UpdateReport } from '../oadr/index.ts';

export const USAGE_SPECIFIER_ID = 'TELEMETRY_USAGE';
export const STATUS_SPECIFIER_ID = 'TELEMETRY_STATUS';
export const METADATA_SPECIFIER_ID = 'METADATA';
export const USAGE_RID = 'power';
export const STATUS_RID = 'status';
/** R510: the VEN keeps at least this many data points. */
export const MIN_BUFFER_POINTS = 100;

export interface ReportOptions {
  /** resourceID the data comes from (reportDataSource, R302). */
  readonly resourceId: string;
  /** Sampling period = oadrMinPeriod, ms (default 60 s). */
  readonly minPeriodMs?: number;
  /** oadrMaxPeriod, ms (default 1 h; ≤ the buffer duration, R312). */
  readonly maxPeriodMs?: number;
  /** Data points kept (default 1440 = one day at 1 min; never below 100, R510). */
  readonly bufferPoints?: number;
  readonly marketContext?: string | undefined;
  /**
   * Offer TELEMETRY_USAGE (default true): only a VEN that reads the site's meter does. Without one
   * the metadata has TELEMETRY_STATUS alone, and a request for usage is answered 452 (R304).
   */
  readonly siteUsage?: boolean | undefined;
  /**
   * Send periodic reports as point samples, as many VENs do: every sample of the reporting window an
   * interval of its own with the sample's instant as `dtstart` and duration PT0S. Default false:
   * one interval per granularity, the mean of its samples.
   */
  readonly pointSamples?: boolean | undefined;
}

interface Resolved {
  readonly resourceId: string;
  readonly minPeriodMs: number;
  readonly maxPeriodMs: number;
  readonly bufferPoints: number;
  readonly marketContext: string | undefined;
  readonly siteUsage: boolean;
  readonly pointSamples: boolean;
}

export function resolveReportOptions(o: Readonly<ReportOptions>): Resolved {
  const minPeriodMs = o.minPeriodMs ?? 60_000;
  const bufferPoints = Math.max(MIN_BUFFER_POINTS, o.bufferPoints ?? 1440);
  return { resourceId: o.resourceId, minPeriodMs, maxPeriodMs: Math.min(o.maxPeriodMs ?? 3_600_000, minPeriodMs * bufferPoints), bufferPoints, marketContext: o.marketContext, siteUsage: o.siteUsage ?? true, pointSamples: o.pointSamples ?? false };
}

/** One reading: power averaged over the `minPeriodMs` that ends at `at`. */
export interface Sample {
  readonly at: number;
  /** Grid-side W; undefined when the device gave no value (R318). */
  readonly powerW: number | undefined;
  readonly online: boolean;
  readonly manualOverride: boolean;
}

export interface ScheduledReport {
  readonly reportRequestId: string;
  readonly specifierId: string;
  readonly rIds: readonly string[];
  readonly granularityMs: number;
  readonly backMs: number;
  /** Covered up to here (exclusive); the next report starts at this instant. */
  readonly coveredToMs: number;
  /** Reporting stops here; undefined = forever (R325; undefined survives JSON, Infinity would not). */
  readonly endMs?: number | undefined;
  readonly nextDueMs: number;
  /** R345: cancelled with reportToFollow: exactly one more report, then gone. */
  readonly final: boolean;
  /** On-change (granularity 0): last values sent, per rID (R317). */
  readonly lastSent?: Readonly<Record<string, number>> | undefined;
}

export interface ReportState {
  readonly samples: readonly Sample[];
  readonly requests: Readonly<Record<string, ScheduledReport>>;
}

export const EMPTY_REPORT_STATE: ReportState = { samples: [], requests: {} };

/** A report ready to send, with its identity for the outbox (report request + first interval). */
export interface DueReport {
  readonly key: string;
  readonly report: Report;
}

const iso = (t: number): string => new Date(t).toISOString();
const POWER_ITEM = { type: 'powerReal', description: 'RealPower', units: 'W', siScaleCode: 'none', powerAttributes: { hertz: 50, voltage: 230, ac: true } } as const;

// ---- metadata -----------------------------------------------------------------------------------

/**
 * oadrRegisterReport with METADATA_TELEMETRY_USAGE (only with a site meter, `siteUsage`) and
 * METADATA_TELEMETRY_STATUS (R301, R305, R311, R312, R331, R333).
 */
export function metadataPayload(options: Readonly<ReportOptions>, venId: string, now: number, requestId: string, reportRequestId?: string): RegisterReport {
  const o = resolveReportOptions(options);
  const samplingRate = { minPeriod: formatDuration(o.minPeriodMs), maxPeriod: formatDuration(o.maxPeriodMs), onChange: false };
  const source = { resourceIds: [o.resourceId] };
  const mc = o.marketContext === undefined ? {} : { marketContext: o.marketContext };
  const duration = formatDuration(o.minPeriodMs * o.bufferPoints);
  const common = { duration, reportRequestId: '0', createdDateTime: iso(now) };
  return {
    type: 'RegisterReport',
    schemaVersion: '2.0b',
    requestId,
    reports: [
      ...(o.siteUsage
        ? [
            {
              ...common,
              descriptions: [{ rId: USAGE_RID, reportDataSource: source, reportType: 'usage' as const, itemBase: { ...POWER_ITEM }, readingType: 'Direct Read' as const, ...mc, samplingRate }],
              reportSpecifierId: USAGE_SPECIFIER_ID,
              reportName: 'METADATA_TELEMETRY_USAGE' as const,
            },
          ]
        : []),
      {
        ...common,
        descriptions: [{ rId: STATUS_RID, reportDataSource: source, reportType: 'x-resourceStatus', readingType: 'x-notApplicable', ...mc, samplingRate }],
        reportSpecifierId: STATUS_SPECIFIER_ID,
        reportName: 'METADATA_TELEMETRY_STATUS',
      },
    ],
    venId,
    ...(reportRequestId === undefined ? {} : { reportRequestId }),
  };
}

/** The reportSpecifierIDs and rIDs the metadata offers (R304). */
const offeredBy = (o: Resolved): Readonly<Record<string, readonly string[]>> =>
  o.siteUsage ? { [USAGE_SPECIFIER_ID]: [USAGE_RID], [STATUS_SPECIFIER_ID]: [STATUS_RID] } : { [STATUS_SPECIFIER_ID]: [STATUS_RID] };

// ---- samples ------------------------------------------------------------------------------------

/** Adds a sample, keeping the newest `bufferPoints` (R510). Samples arrive in time order. */
export function recordSample(state: ReportState, sample: Sample, options: Readonly<ReportOptions>): ReportState {
  const { bufferPoints } = resolveReportOptions(options);
  const samples = [...state.samples, sample];
  return { ...state, samples: samples.length > bufferPoints ? samples.slice(samples.length - bufferPoints) : samples };
}

// ---- requests -----------------------------------------------------------------------------------

export interface CreateResult {
  readonly state: ReportState;
  readonly code: number;
  readonly description: string;
  /** R329: periodic requests still scheduled. */
  readonly pendingReports: readonly string[];
  /** reportRequestIDs of METADATA requests: answer each with oadrRegisterReport carrying it (R311). */
  readonly metadataRequests: readonly string[];
}

/** The periodic reports still scheduled (R329). */
export function pendingReports(state: ReportState): string[] {
  return Object.values(state.requests)
    .filter((r) => r.backMs > 0 && !r.final)
    .map((r) => r.reportRequestId);
}

/**
 * Schedules the report requests of an oadrCreateReport or an oadrRegisteredReport (R344).
 * All or nothing: the first bad request decides the answer and nothing is scheduled.
 */
export function createReports(state: ReportState, requests: readonly ReportRequest[], now: number, options: Readonly<ReportOptions>): CreateResult {
  const o = resolveReportOptions(options);
  const added: Record<string, ScheduledReport> = {};
  const metadataRequests: string[] = [];
  const fail = (code: number, description: string): CreateResult => ({ state, code, description, pendingReports: pendingReports(state), metadataRequests: [] });
  for (const req of requests) {
    const spec = req.specifier;
    const id = req.reportRequestId;
    if (spec.reportSpecifierId === METADATA_SPECIFIER_ID) {
      metadataRequests.push(id); // R327; a periodic METADATA request is answered once (CHOICE, see docs/ven.md)
      continue;
    }
    const offered = offeredBy(o)[spec.reportSpecifierId];
    if (offered === undefined) return fail(ResponseCode.INVALID_ID, `reportSpecifierID ${spec.reportSpecifierId} is not in this VEN's metadata (R304)`);
    const rIds = spec.specifierPayloads.map((p) => p.rId);
    const missing = rIds.filter((r) => !offered.includes(r));
    if (missing.length > 0) return fail(ResponseCode.INVALID_ID, `rID ${missing.join(', ')} is not offered under ${spec.reportSpecifierId} (R300, R304)`);
    let granularityMs: number;
    let backMs: number;
    try {
      granularityMs = durationToMs(spec.granularity, now);
      backMs = durationToMs(spec.reportBackDuration, now);
    } catch {
      return fail(ResponseCode.INVALID_DATA, 'granularity or reportBackDuration is not a duration');
    }
    if (backMs > 0 && granularityMs > 0 && granularityMs < o.minPeriodMs) {
      return fail(ResponseCode.INVALID_DATA, `granularity ${spec.granularity} is below oadrMinPeriod ${formatDuration(o.minPeriodMs)} (R317)`);
    }
    if (backMs > 0 && granularityMs > backMs) return fail(ResponseCode.INVALID_DATA, `granularity ${spec.granularity} exceeds reportBackDuration ${spec.reportBackDuration} (R317)`);
    const startMs = spec.reportInterval === undefined || backMs === 0 ? now : Date.parse(spec.reportInterval.dtstart);
    if (now - startMs > o.minPeriodMs * o.bufferPoints) return fail(ResponseCode.INVALID_DATA, 'the request reaches further back than the metadata duration (R340)');
    const durMs = spec.reportInterval === undefined ? 0 : durationToMs(spec.reportInterval.duration, startMs);
    const existing = state.requests[id];
    if (existing !== undefined && !existing.final && existing.specifierId === spec.reportSpecifierId && existing.granularityMs === granularityMs && existing.backMs === backMs && existing.rIds.join() === rIds.join()) {
      added[id] = existing; // the same request again (e.g. after re-registration): keep its progress, send nothing twice
      continue;
    }
    added[id] = {
      reportRequestId: id,
      specifierId: spec.reportSpecifierId,
      rIds,
      granularityMs,
      backMs,
      coveredToMs: startMs,
      endMs: durMs === 0 ? undefined : startMs + durMs, // R325: 0 = forever
      nextDueMs: backMs === 0 ? now : startMs + backMs,
      final: false,
    };
  }
  const next = { ...state, requests: { ...state.requests, ...added } };
  return { state: next, code: ResponseCode.OK, description: 'OK', pendingReports: pendingReports(next), metadataRequests };
}

export interface CancelResult {
  readonly state: ReportState;
  readonly code: number;
  readonly description: string;
  readonly pendingReports: readonly string[];
}

/** oadrCancelReport (R336, R345, R328): unknown IDs give 452, known ones are cancelled anyway. */
export function cancelReports(state: ReportState, ids: readonly string[], reportToFollow: boolean): CancelResult {
  const requests = { ...state.requests };
  const unknown: string[] = [];
  for (const id of ids) {
    const r = requests[id];
    if (r === undefined) unknown.push(id);
    else if (reportToFollow && r.backMs > 0) requests[id] = { ...r, final: true };
    else delete requests[id];
  }
  const next = { ...state, requests };
  return {
    state: next,
    code: unknown.length > 0 ? ResponseCode.INVALID_ID : ResponseCode.OK,
    description: unknown.length > 0 ? `unknown reportRequestID ${unknown.join(', ')} (R336)` : 'OK',
    pendingReports: pendingReports(next),
  };
}

// ---- producing ----------------------------------------------------------------------------------

/** The samples whose period ends in (from, to]. */
const within = (samples: readonly Sample[], from: number, to: number): Sample[] => samples.filter((s) => s.at > from && s.at <= to);

function usagePayload(samples: readonly Sample[]): ReportInterval['payloads'][number] {
  const values = samples.map((s) => s.powerW).filter((v): v is number => v !== undefined);
  if (values.length === 0) {
    // R318: a placeholder value and a bad quality.
    const offline = samples.length > 0 && samples.every((s) => !s.online);
    return { rId: USAGE_RID, value: { type: 'float', value: 0 }, dataQuality: offline ? 'Quality Bad - Comm Failure' : 'Quality Bad - Non Specific' };
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { rId: USAGE_RID, value: { type: 'float', value: Math.round(mean * 1000) / 1000 } };
}

function statusPayload(samples: readonly Sample[]): ReportInterval['payloads'][number] {
  const last = samples[samples.length - 1];
  if (last === undefined) return { rId: STATUS_RID, value: { type: 'resourceStatus', online: false, manualOverride: false }, dataQuality: 'Quality Bad - Non Specific' };
  return { rId: STATUS_RID, value: { type: 'resourceStatus', online: last.online, manualOverride: last.manualOverride } };
}

function payloadsFor(rIds: readonly string[], samples: readonly Sample[]): ReportInterval['payloads'] {
  const out: ReportInterval['payloads'] = [];
  for (const r of rIds) out.push(r === USAGE_RID ? usagePayload(samples) : statusPayload(samples));
  return out;
}

function buildReport(r: ScheduledReport, startMs: number, intervals: ReportInterval[], now: number): Report {
  return {
    dtstart: iso(startMs),
    intervals,
    reportRequestId: r.reportRequestId,
    reportSpecifierId: r.specifierId,
    reportName: r.specifierId === USAGE_SPECIFIER_ID ? 'TELEMETRY_USAGE' : 'TELEMETRY_STATUS',
    createdDateTime: iso(now),
  };
}

/**
 * Reports due at `now`. Periodic: every reportBackDuration, all complete granularity intervals
 * since the last report (R317, R341), interval data with dtstart + duration + uid on every interval
 * (R313–R316, R342: the form every VTN reads; a report-level dtstart alone is valid but some VTNs
 * refuse it). One-shot: at once, one interval per rID from the newest sample (R324).
 */
export function dueReports(state: ReportState, now: number, options: Readonly<ReportOptions>): { state: ReportState; reports: DueReport[] } {
  const o = resolveReportOptions(options);
  const requests = { ...state.requests };
  const reports: DueReport[] = [];
  for (const r of Object.values(state.requests)) {
    if (r.nextDueMs > now) continue;
    if (r.backMs === 0) {
      const last = state.samples[state.samples.length - 1];
      const end = last?.at ?? now;
      const intervals: ReportInterval[] = [{ dtstart: iso(end - o.minPeriodMs), duration: formatDuration(o.minPeriodMs), uid: '0', payloads: payloadsFor(r.rIds, last === undefined ? [] : [last]) }];
      reports.push({ key: `${r.reportRequestId}@once`, report: buildReport(r, end - o.minPeriodMs, intervals, now) });
      delete requests[r.reportRequestId];
      continue;
    }
    const g = r.granularityMs === 0 ? r.backMs : r.granularityMs; // R317: 0 = on change, at the back-duration rhythm
    const limit = Math.min(now, r.endMs ?? Infinity);
    const count = Math.max(0, Math.floor((limit - r.coveredToMs) / g));
    const intervals: ReportInterval[] = [];
    const lastSent: Record<string, number> = { ...(r.lastSent ?? {}) };
    if (o.pointSamples && r.granularityMs !== 0) {
      // Point samples: each sample of the window as it was taken (R313–R316: own dtstart, duration PT0S).
      for (const [i, sample] of within(state.samples, r.coveredToMs, r.coveredToMs + count * g).entries()) {
        intervals.push({ dtstart: iso(sample.at), duration: formatDuration(0), uid: String(i), payloads: payloadsFor(r.rIds, [sample]) });
      }
    }
    for (let i = 0; i < (o.pointSamples && r.granularityMs !== 0 ? 0 : count); i++) {
      const from = r.coveredToMs + i * g;
      const payloads = payloadsFor(r.rIds, within(state.samples, from, from + g)).map((p) => {
        if (r.granularityMs !== 0 || p.value.type !== 'float' || p.dataQuality !== undefined) return p;
        const unchanged = lastSent[p.rId] === p.value.value;
        lastSent[p.rId] = p.value.value;
        return unchanged ? { ...p, dataQuality: 'No New Value - Previous Value Used' as const } : p;
      });
      intervals.push({ dtstart: iso(from), duration: formatDuration(g), uid: String(i), payloads });
    }
    const coveredToMs = r.coveredToMs + count * g;
    if (intervals.length > 0) reports.push({ key: `${r.reportRequestId}@${r.coveredToMs}`, report: buildReport(r, r.coveredToMs, intervals, now) });
    const done = (r.final && intervals.length > 0) || coveredToMs >= (r.endMs ?? Infinity);
    if (done) delete requests[r.reportRequestId];
    else requests[r.reportRequestId] = { ...r, coveredToMs, nextDueMs: coveredToMs + r.backMs, lastSent };
  }
  return { state: { ...state, requests }, reports };
}

/** oadrUpdateReport carrying `reports`. */
export function updateReportPayload(reports: readonly Report[], venId: string, requestId: string): UpdateReport {
  return { type: 'UpdateReport', schemaVersion: '2.0b', requestId, reports: [...reports], venId };
}
