/**
 * EiReport on the VTN (R300–R346, rules §6). The VTN registers its own, empty metadata (R301,
 * R309, R510); the VEN's metadata replaces what the VTN held and implicitly cancels every report
 * the VTN had requested (R306); the VTN then requests TELEMETRY_USAGE (and TELEMETRY_STATUS when
 * offered), piggy-backed on oadrRegisteredReport (R344) or by oadrCreateReport, with the
 * granularity and back-duration of the customer's program (R317, R324, R338). Data reports are
 * validated against what was requested (452, R304), stored per interval keyed by (venID, rID,
 * interval start) whatever request they came under: duplicates dropped — the VEN's outbox is
 * at-least-once, and a VEN that restarts re-sends under a new request — and the same interval with
 * another value replacing the earlier one (R346 corrections). Usage intervals and point samples
 * (no duration) in W or Wh, SI scale applied, are queued for the ledger in the same transaction
 * (the outbox, ledger/outbox.ts), so what the VTN acknowledges reaches the ledger. Cancels: piggy-backed on
 * oadrUpdatedReport (R328) or stand-alone (R335, R336, R345). A request the VEN never answers is
 * sent again (`startReportResend`).
 */
import {
  durationToMs,
  formatDuration,
  OadrProtocolError,
  ResponseCode,
  reportIntervalSpans,
  type CancelReport,
  type CanceledReport,
  type CreateReport,
  type CreatedReport,
  type ItemBase,
  type Payload,
  type RegisterReport,
  type RegisteredReport,
  type Report,
  type ReportRequest,
  type UpdateReport,
} from '../../oadr/index.ts';
import type { ProgramConfig } from '../cli/config.ts';
import { CRASH_POINTS, SCHEMA_VERSION, eiResponse, oadrResponse, requireVen, type VtnContext } from './context.ts';
import { VtnError } from '../errors.ts';
import type { TelemetryPoint } from '../ledger/port.ts';
import type { ReportRequestRecord, ReportRequestState, TelemetryPointRecord, VenRegistration } from '../store/store.ts';
import { queuePayload } from '../transports/ven-queue.ts';
import { checkTelemetryValues } from './telemetry-checks.ts';
import { maxTelemetryWOf, programOfCustomer } from './programs.ts';
import { startPeriodic, type Periodic } from './periodic.ts';

/** Well-known report names the VTN asks for (R331). */
export const REPORT_NAMES = { usage: 'TELEMETRY_USAGE', status: 'TELEMETRY_STATUS', history: 'HISTORY_USAGE' } as const;
const METADATA_PREFIX = 'METADATA_';

/** siScaleCode → factor (emix SiScaleCodeType). */
export const SI_SCALE: Readonly<Record<string, number>> = {
  p: 1e-12, n: 1e-9, micro: 1e-6, m: 1e-3, c: 1e-2, d: 1e-1, none: 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12,
};

/** Requests whose data is no longer wanted. */
const CLOSED: ReadonlySet<ReportRequestState> = new Set(['cancelled', 'refused']);

function unitOf(item: ItemBase | undefined): { readonly unit: string; readonly scale: number } {
  if (item === undefined) return { unit: '', scale: 1 };
  const scale = 'siScaleCode' in item ? (SI_SCALE[item.siScaleCode] ?? 1) : 1;
  switch (item.type) {
    case 'powerReal':
      return { unit: 'W', scale }; // W or J/s
    case 'energyReal':
      return { unit: 'Wh', scale };
    case 'pulseCount': {
      // oadr:pulseFactor is kWh per count (the 2.0b schema): a count becomes Wh.
      const factor = item.pulseFactor;
      return Number.isFinite(factor) && factor > 0 ? { unit: 'Wh', scale: factor * 1000 } : { unit: 'count', scale: 1 };
    }
    default: {
      const units = (item as { readonly units?: unknown }).units;
      return { unit: typeof units === 'string' ? units : item.type, scale };
    }
  }
}

/** The program whose report settings apply to a VEN (its customer's, else the first). */
export function programOfVen(ctx: VtnContext, reg: VenRegistration): ProgramConfig {
  return programOfCustomer(ctx.programs, ctx.store.getCustomer(reg.customerId));
}

const msOf = (d: string | undefined): number | undefined => {
  if (d === undefined) return undefined;
  try {
    return durationToMs(d);
  } catch {
    return undefined;
  }
};

/** A usage report's data points the VTN can read as energy: W, Wh, or pulses with a pulse factor. */
const usageDescriptions = (r: Report) => (r.descriptions ?? []).filter((d) => ['W', 'Wh'].includes(unitOf(d.itemBase).unit));

function unitsOf(descriptions: readonly { readonly rId: string; readonly itemBase?: ItemBase | undefined }[]): Record<string, { unit: string; scale: number }> {
  const units: Record<string, { unit: string; scale: number }> = {};
  for (const d of descriptions) units[d.rId] = unitOf(d.itemBase);
  return units;
}

/**
 * What the VTN asks for, given a VEN's metadata: every METADATA_TELEMETRY_USAGE report (its data
 * points in W, Wh, or pulse counts with a pulse factor, read as Wh) and every
 * METADATA_TELEMETRY_STATUS report. Granularity is the program's,
 * kept within the offered sampling rates (R317); the back-duration is at least the granularity and
 * at most the metadata duration (R340).
 */
export function planReportRequests(ctx: VtnContext, reg: VenRegistration, metadata: readonly Report[]): ReportRequestRecord[] {
  const program = programOfVen(ctx, reg);
  const now = ctx.now();
  const out: ReportRequestRecord[] = [];
  for (const r of metadata) {
    const name = (r.reportName ?? '').startsWith(METADATA_PREFIX) ? (r.reportName ?? '').slice(METADATA_PREFIX.length) : '';
    if (name !== REPORT_NAMES.usage && name !== REPORT_NAMES.status) continue;
    const descriptions = name === REPORT_NAMES.status ? (r.descriptions ?? []) : usageDescriptions(r);
    if (descriptions.length === 0) {
      ctx.log.info({ venId: reg.venId, reportSpecifierId: r.reportSpecifierId }, `${name} offers no data point in W, Wh or pulses with a pulse factor; not requested`);
      continue;
    }
    let minMs = 0;
    let maxMs = Infinity;
    for (const d of descriptions) {
      minMs = Math.max(minMs, msOf(d.samplingRate?.minPeriod) ?? 0);
      maxMs = Math.min(maxMs, msOf(d.samplingRate?.maxPeriod) || Infinity);
    }
    let granularityMs = program.reportGranularityMs;
    if (granularityMs < minMs) granularityMs = minMs;
    if (granularityMs > maxMs && maxMs >= minMs) granularityMs = maxMs;
    let backDurationMs = Math.max(program.reportBackDurationMs, granularityMs);
    const offeredMs = msOf(r.duration);
    if (offeredMs !== undefined && offeredMs >= granularityMs && backDurationMs > offeredMs) backDurationMs = offeredMs;
    granularityMs = Math.ceil(granularityMs / 1000) * 1000;
    backDurationMs = Math.ceil(backDurationMs / 1000) * 1000;
    if (granularityMs !== program.reportGranularityMs) {
      ctx.log.info({ venId: reg.venId, reportSpecifierId: r.reportSpecifierId, granularityMs, programGranularityMs: program.reportGranularityMs }, 'granularity adjusted to the sampling rates the VEN offers (R317)');
    }
    out.push({
      venId: reg.venId,
      reportRequestId: ctx.newId('rr'), // R322: unique within the VTN
      reportSpecifierId: r.reportSpecifierId,
      reportName: name,
      rIds: descriptions.map((d) => d.rId),
      units: unitsOf(descriptions),
      granularityMs,
      backDurationMs,
      state: 'requested',
      createdAt: now,
      updatedAt: now,
    });
  }
  return out;
}

/**
 * The oadrReportRequest of a stored request: periodic, from now on, forever (R324, R325, R321, R338).
 * reportInterval starts at the next multiple of the granularity (now, if on one), so the VEN's
 * intervals fall on the slot grid the ledger records per slot: intervals anchored at an arbitrary
 * instant would smear each slot's reduction into its neighbours.
 */
export function toReportRequest(r: ReportRequestRecord, now: number): ReportRequest {
  if (r.historyFromMs !== undefined && r.historyToMs !== undefined) {
    // HISTORY_USAGE: once (reportBackDuration 0), at the recorded resolution (granularity 0), over
    // the past span asked for (R317, R324, R325).
    return {
      reportRequestId: r.reportRequestId,
      specifier: {
        reportSpecifierId: r.reportSpecifierId,
        granularity: 'PT0S',
        reportBackDuration: 'PT0S',
        reportInterval: { dtstart: new Date(r.historyFromMs).toISOString(), duration: formatDuration(r.historyToMs - r.historyFromMs) },
        specifierPayloads: r.rIds.map((rId) => ({ rId, readingType: 'x-notApplicable' as const })),
      },
    };
  }
  const startMs = r.granularityMs > 0 ? Math.ceil(now / r.granularityMs) * r.granularityMs : now;
  return {
    reportRequestId: r.reportRequestId,
    specifier: {
      reportSpecifierId: r.reportSpecifierId,
      granularity: formatDuration(r.granularityMs),
      reportBackDuration: formatDuration(r.backDurationMs),
      reportInterval: { dtstart: new Date(startMs).toISOString(), duration: 'PT0S' },
      specifierPayloads: r.rIds.map((rId) => ({ rId, readingType: 'x-notApplicable' as const })),
    },
  };
}

/**
 * Report requests the VEN never answered — neither oadrCreatedReport nor data, `reportRequestRetryMs`
 * after they were sent — go again by oadrCreateReport, with the same reportRequestIDs, up to
 * `reportRequestRetries` times; then the request is `unanswered` (logged; data for it is still
 * taken). `tick()` returns the requests sent again.
 */
export function startReportResend(ctx: VtnContext): Periodic {
  const { reportRequestRetryMs: retryMs, reportRequestRetries: retries } = ctx.config;
  const pass = (now: number): number => {
    let sent = 0;
    for (const reg of ctx.store.listRegistrations()) {
      if (reg.state !== 'registered') continue;
      const due = ctx.store.listReportRequests(reg.venId).filter((r) => r.state === 'requested' && now - r.updatedAt >= retryMs);
      if (due.length === 0) continue;
      const again = due.filter((r) => (r.resends ?? 0) < retries);
      const unanswered = due.filter((r) => (r.resends ?? 0) >= retries);
      ctx.store.transaction(() => {
        for (const r of unanswered) ctx.store.putReportRequest({ ...r, state: 'unanswered', updatedAt: now });
        for (const r of again) ctx.store.putReportRequest({ ...r, resends: (r.resends ?? 0) + 1, updatedAt: now });
        if (again.length > 0) {
          queueCreateReport(ctx, reg.venId, again, now);
        }
      });
      if (again.length > 0) ctx.log.info({ venId: reg.venId, reportRequestIds: again.map((r) => r.reportRequestId) }, 'report requests the VEN has not answered sent again by oadrCreateReport');
      if (unanswered.length > 0) ctx.log.warn({ venId: reg.venId, reportRequestIds: unanswered.map((r) => r.reportRequestId), resends: retries }, 'report requests never answered by the VEN; no more re-sends (its telemetry may be missing: check the VEN)');
      sent += again.length;
    }
    return sent;
  };
  return startPeriodic(ctx, { intervalMs: Math.max(1000, Math.floor(retryMs / 4)), what: 'report request re-send', pass });
}

/** Queues one oadrCreateReport carrying these stored requests (called inside the transaction that stores them). */
function queueCreateReport(ctx: VtnContext, venId: string, requests: readonly ReportRequestRecord[], now: number): void {
  queuePayload(ctx, venId, { type: 'CreateReport', schemaVersion: SCHEMA_VERSION, requestId: ctx.newId('req'), reportRequests: requests.map((r) => toReportRequest(r, now)), venId });
}

/** Mark every open request of a VEN cancelled, without telling it (R306: new metadata cancels them implicitly). */
function closeOpenRequests(ctx: VtnContext, venId: string, now: number): number {
  let n = 0;
  for (const r of ctx.store.listReportRequests(venId)) {
    if (CLOSED.has(r.state)) continue;
    ctx.store.putReportRequest({ ...r, state: 'cancelled', updatedAt: now });
    n++;
  }
  return n;
}

/**
 * oadrRegisterReport from a VEN: its metadata replaces the old (R306), the old requests are
 * implicitly cancelled, and the new ones ride on oadrRegisteredReport (R344).
 */
export function handleRegisterReport(ctx: VtnContext, p: RegisterReport): Payload {
  const reg = requireVen(ctx, p.venId);
  const now = ctx.now();
  const reports = p.reports ?? [];
  const requests = ctx.store.transaction(() => {
    ctx.store.putReportMetadata(reg.venId, reports, now);
    const closed = closeOpenRequests(ctx, reg.venId, now);
    if (closed > 0) ctx.log.info({ venId: reg.venId, closed }, 'new metadata: earlier report requests are implicitly cancelled (R306)');
    const planned = planReportRequests(ctx, reg, reports);
    for (const r of planned) ctx.store.putReportRequest(r);
    return planned;
  });
  ctx.log.info(
    { venId: reg.venId, reports: reports.map((r) => r.reportName ?? r.reportSpecifierId), requested: requests.map((r) => `${r.reportName}:${r.reportRequestId}`) },
    'VEN metadata registered',
  );
  const answer: RegisteredReport = { type: 'RegisteredReport', schemaVersion: SCHEMA_VERSION, response: eiResponse(ResponseCode.OK, p.requestId), venId: reg.venId };
  if (requests.length > 0) answer.reportRequests = requests.map((r) => toReportRequest(r, now));
  return answer;
}

interface CheckedReport {
  readonly report: Report;
  readonly request: ReportRequestRecord;
}

/** R304: a data report names a request the VTN made of this VEN, its specifier, and only requested rIDs. */
function checkDataReport(ctx: VtnContext, venId: string, r: Report): ReportRequestRecord {
  const req = ctx.store.getReportRequest(venId, r.reportRequestId);
  if (req === undefined) {
    throw new OadrProtocolError(ResponseCode.INVALID_ID, `reportRequestID '${r.reportRequestId}' was not requested from VEN ${venId} (R304); send reports only for the VTN's requests`);
  }
  if (CLOSED.has(req.state)) {
    if (req.state === 'cancelled') {
      // R335: reports keep coming after a cancel: a stand-alone oadrCancelReport follows.
      ctx.store.putReportRequest({ ...req, state: 'cancelling', updatedAt: ctx.now() });
      queuePayload(ctx, venId, cancelReportPayload(ctx, venId, [req.reportRequestId], false));
    }
    throw new OadrProtocolError(ResponseCode.INVALID_ID, `report request '${r.reportRequestId}' is ${req.state}; stop sending it (R304, R335)`);
  }
  if (r.reportSpecifierId !== req.reportSpecifierId) {
    throw new OadrProtocolError(ResponseCode.INVALID_ID, `report request '${r.reportRequestId}' is for reportSpecifierID '${req.reportSpecifierId}', not '${r.reportSpecifierId}' (R304)`);
  }
  for (const iv of r.intervals ?? []) {
    for (const pl of iv.payloads) {
      if (!req.rIds.includes(pl.rId)) {
        throw new OadrProtocolError(ResponseCode.INVALID_ID, `rID '${pl.rId}' was not requested in '${r.reportRequestId}' (requested: ${req.rIds.join(', ')}) (R304)`);
      }
    }
  }
  if (r.dtstart === undefined && (r.intervals ?? []).some((iv) => iv.dtstart === undefined)) {
    throw new OadrProtocolError(ResponseCode.COMPLIANCE_ERROR, `report for '${r.reportRequestId}' has no dtstart (R314)`);
  }
  return req;
}

/** Each interval's start and length (R314, R315): both report forms, read by `reportIntervalSpans` (oadr/). */
export const intervalsOf = reportIntervalSpans;

const isBadQuality = (q: string | undefined): boolean => q !== undefined && (q.startsWith('Quality Bad') || q === 'No Quality - No Value');

/** Kind of the outbox work that carries one telemetry reading. */
export const LEDGER_WORK_TELEMETRY = 'telemetry';

/**
 * What a stored point gives the ledger: a usage reading in W or Wh of good quality — an interval, or
 * a point sample (duration 0) — or undefined for anything else (status, other units, bad quality).
 */
export function ledgerReadingOf(p: TelemetryPointRecord, customerId: string): TelemetryPoint | undefined {
  if (p.reportName !== REPORT_NAMES.usage || p.value === undefined || p.durationMs < 0 || isBadQuality(p.quality)) return undefined;
  if (p.unit !== 'W' && p.unit !== 'Wh') return undefined;
  return { venId: p.venId, customerId, startMs: p.startMs, durationMs: p.durationMs, rId: p.rId, value: p.value, unit: p.unit };
}

/** The business key of a reading's ledger work: one per (VEN, rID, start, duration). */
export const ledgerWorkKey = (p: TelemetryPoint): string => `${LEDGER_WORK_TELEMETRY}|${p.venId}|${p.rId}|${p.startMs}|${p.durationMs}`;

/**
 * oadrUpdateReport: every report is checked first (any failure: 452, nothing stored); then each
 * interval's data points are stored (R346: a duplicate is dropped, the same interval with another
 * value replaces the earlier one), new and corrected usage readings are queued for the ledger in the
 * same transaction, and oadrUpdatedReport carries the cancels waiting for these requests (R328).
 */
export function handleUpdateReport(ctx: VtnContext, p: UpdateReport): Payload {
  const reg = requireVen(ctx, p.venId);
  const now = ctx.now();
  const checked: CheckedReport[] = [];
  for (const r of p.reports ?? []) {
    const request = checkDataReport(ctx, reg.venId, r);
    checkTelemetryValues(r, request, { maxPowerW: maxTelemetryWOf(ctx.programs, ctx.store.getCustomer(reg.customerId)), now }); // 454 at the edge, nothing stored
    checked.push({ report: r, request });
  }
  let forLedger = 0;
  const piggyback: string[] = [];
  let stored = 0;
  let duplicates = 0;
  let corrected = 0;
  let conflicts = 0;
  ctx.store.transaction(() => {
    for (const { report, request } of checked) {
      let fresh = false;
      const ivs = intervalsOf(report);
      for (const { startMs, durationMs, index } of ivs) {
        // Stryker disable next-line ConditionalExpression: every start is a number here (checkDataReport refuses a report without dtstart when an interval has none, R314), so never skipping is the same
        if (!Number.isFinite(startMs)) continue;
        for (const pl of (report.intervals ?? [])[index]?.payloads ?? []) {
          const u = request.units[pl.rId] ?? { unit: '', scale: 1 };
          const value = pl.value.type === 'float' ? pl.value.value * u.scale : undefined;
          const point: TelemetryPointRecord = {
            venId: reg.venId,
            reportRequestId: request.reportRequestId,
            reportName: request.reportName,
            rId: pl.rId,
            startMs,
            durationMs,
            value,
            unit: value === undefined ? undefined : u.unit,
            quality: pl.dataQuality,
            status: pl.value.type === 'resourceStatus' ? { online: pl.value.online, manualOverride: pl.value.manualOverride, loadControlState: pl.value.loadControlState } : undefined,
            receivedAt: now,
          };
          const outcome = ctx.store.insertTelemetryPoint(point);
          if (outcome === 'duplicate' || outcome === 'conflict') {
            if (outcome === 'duplicate') duplicates++;
            else conflicts++;
            continue;
          }
          if (outcome === 'corrected') corrected++;
          stored++;
          fresh = true;
          const reading = ctx.ledger === undefined ? undefined : ledgerReadingOf(point, reg.customerId);
          if (reading !== undefined) {
            ctx.store.putLedgerWork(ledgerWorkKey(reading), LEDGER_WORK_TELEMETRY, reading, now);
            // Stryker disable next-line UpdateOperator: the count only decides whether to kick the ledger outbox now, and its timer drains it anyway
            forLedger++;
          }
        }
      }
      if (fresh) ctx.store.appendTelemetry({ venId: reg.venId, reportRequestId: report.reportRequestId, reportSpecifierId: report.reportSpecifierId, receivedAt: now, report });
      const cur = ctx.store.getReportRequest(reg.venId, request.reportRequestId) ?? request;
      if (cur.state === 'requested' || cur.state === 'unanswered') ctx.store.putReportRequest({ ...cur, state: 'active', updatedAt: now });
      else if (cur.state === 'final') ctx.store.putReportRequest({ ...cur, state: 'cancelled', updatedAt: now }); // R345: the one report that follows
      else if (cur.state === 'cancel-piggyback' && !piggyback.includes(cur.reportRequestId)) {
        piggyback.push(cur.reportRequestId);
        ctx.store.putReportRequest({ ...cur, state: 'cancelled', updatedAt: now }); // R335: not confirmed; more data → stand-alone cancel
      }
    }
  });
  if (duplicates > 0) ctx.log.debug({ venId: reg.venId, duplicates, stored }, 'duplicate report intervals dropped (R346)');
  if (corrected > 0) ctx.log.info({ venId: reg.venId, corrected }, 'report intervals corrected by the VEN: the new values replace the earlier ones (R346)');
  if (conflicts > 0) ctx.log.warn({ venId: reg.venId, conflicts }, 'report intervals sent again with another duration: the first ones stay');
  ctx.crashPoint?.(CRASH_POINTS.reportStored);
  // Stryker disable next-line all: kicking the ledger outbox only drains it sooner; its timer drains it anyway (speed is measured by the bench)
  if (forLedger > 0) ctx.ledgerWork?.kick();
  const answer: Payload = { type: 'UpdatedReport', schemaVersion: SCHEMA_VERSION, response: eiResponse(ResponseCode.OK, p.requestId), venId: reg.venId };
  if (piggyback.length > 0) answer.cancelReport = cancelReportPayloadBody(ctx, reg.venId, piggyback, false);
  return answer;
}

function cancelReportPayloadBody(ctx: VtnContext, venId: string, ids: readonly string[], reportToFollow: boolean): Omit<CancelReport, 'type'> {
  return { schemaVersion: SCHEMA_VERSION, requestId: ctx.newId('req'), reportRequestIds: [...ids], reportToFollow, venId };
}

function cancelReportPayload(ctx: VtnContext, venId: string, ids: readonly string[], reportToFollow: boolean): CancelReport {
  return { type: 'CancelReport', ...cancelReportPayloadBody(ctx, venId, ids, reportToFollow) };
}

/** The VEN asks the VTN for reports: only METADATA exists (R327); it is sent once (R510). */
export function handleCreateReport(ctx: VtnContext, p: CreateReport): Payload {
  const reg = requireVen(ctx, p.venId);
  const unknown = p.reportRequests.filter((r) => r.specifier.reportSpecifierId !== 'METADATA');
  if (unknown.length > 0) {
    throw new OadrProtocolError(ResponseCode.INVALID_ID, `the VTN offers no report '${unknown[0]?.specifier.reportSpecifierId ?? ''}'; only METADATA can be requested (R304)`);
  }
  for (const r of p.reportRequests) {
    queuePayload(ctx, reg.venId, { type: 'RegisterReport', schemaVersion: SCHEMA_VERSION, requestId: ctx.newId('req'), venId: reg.venId, reportRequestId: r.reportRequestId });
  }
  return { type: 'CreatedReport', schemaVersion: SCHEMA_VERSION, response: eiResponse(ResponseCode.OK, p.requestId), pendingReports: [], venId: reg.venId };
}

/** The VTN produces no periodic reports, so a VEN has nothing to cancel: any ID is unknown (R336). */
export function handleCancelReport(ctx: VtnContext, p: CancelReport): Payload {
  requireVen(ctx, p.venId);
  throw new OadrProtocolError(ResponseCode.INVALID_ID, `no report request '${p.reportRequestIds.join("', '")}' is scheduled by this VTN (R336)`);
}

/** The VEN acknowledges the VTN's metadata (oadrRegisteredReport): oadrResponse (§8.3.2.1). */
export function handleReportAck(ctx: VtnContext, p: RegisteredReport | CreatedReport): Payload {
  if (p.type === 'CreatedReport') return handleCreatedReport(ctx, p);
  const reg = requireVen(ctx, p.venId);
  if ((p.reportRequests ?? []).some((r) => r.specifier.reportSpecifierId !== 'METADATA')) {
    ctx.log.info({ venId: reg.venId }, 'oadrRegisteredReport asks for reports the VTN does not offer; ignored (the VTN metadata is empty)');
  }
  return oadrResponse(reg.venId, ResponseCode.OK, p.response.requestId);
}

/**
 * oadrCreatedReport, the VEN's answer to the VTN's requests (piggy-backed or oadrCreateReport):
 * the IDs in oadrPendingReports are active (R329); an error answer refuses the open requests.
 */
export function handleCreatedReport(ctx: VtnContext, p: CreatedReport): Payload {
  const reg = requireVen(ctx, p.venId);
  const now = ctx.now();
  const pending = new Set(p.pendingReports);
  const ok = p.response.code >= 200 && p.response.code < 300;
  ctx.store.transaction(() => {
    for (const r of ctx.store.listReportRequests(reg.venId)) {
      if (r.state !== 'requested' && r.state !== 'unanswered') continue;
      if (pending.has(r.reportRequestId)) ctx.store.putReportRequest({ ...r, state: 'active', updatedAt: now });
      else if (!ok) ctx.store.putReportRequest({ ...r, state: 'refused', updatedAt: now });
    }
  });
  if (!ok) ctx.log.warn({ venId: reg.venId, code: p.response.code, description: p.response.description }, 'the VEN refused the report requests');
  return oadrResponse(reg.venId, ResponseCode.OK, p.response.requestId);
}

/** oadrCanceledReport, the VEN's answer to a stand-alone oadrCancelReport (R329, R345). */
export function handleCanceledReport(ctx: VtnContext, p: CanceledReport): Payload {
  const reg = requireVen(ctx, p.venId);
  const now = ctx.now();
  if (p.response.code < 200 || p.response.code >= 300) {
    ctx.log.warn({ venId: reg.venId, code: p.response.code, description: p.response.description }, 'the VEN did not cancel the reports');
    return oadrResponse(reg.venId, ResponseCode.OK, p.response.requestId);
  }
  ctx.store.transaction(() => {
    for (const r of ctx.store.listReportRequests(reg.venId)) {
      if (r.state !== 'cancelling') continue;
      ctx.store.putReportRequest({ ...r, state: r.reportToFollow === true ? 'final' : 'cancelled', updatedAt: now });
    }
  });
  return oadrResponse(reg.venId, ResponseCode.OK, p.response.requestId);
}

export interface CancelReportOptions {
  /** R345: the VEN sends exactly one more report. Default false. */
  readonly reportToFollow?: boolean;
  /** Cancel inside the next oadrUpdatedReport for it (R328) instead of a stand-alone oadrCancelReport. Default false. */
  readonly piggyback?: boolean;
}

/**
 * Where a customer's usage telemetry stands. A VEN without a site meter offers no TELEMETRY_USAGE in
 * its oadrRegisterReport; the VTN then requests none, and the ledger holds only the customer's
 * imported meter data: settlement uses that alone.
 */
export interface UsageTelemetryView {
  /** `no-ven`, `awaiting-metadata` (registered, no oadrRegisterReport yet), `not-offered` (no usage data point in W or Wh), `requested`. */
  readonly state: 'no-ven' | 'awaiting-metadata' | 'not-offered' | 'requested';
  readonly venId?: string;
  /** What the ledger's slots for this customer come from. */
  readonly settledFrom: 'telemetry and imported meter data' | 'imported meter data only';
}

export function usageTelemetryOf(ctx: Pick<VtnContext, 'store'>, customerId: string): UsageTelemetryView {
  const reg = ctx.store.findRegistrationByCustomer(customerId);
  if (reg === undefined) return { state: 'no-ven', settledFrom: 'imported meter data only' };
  const venId = reg.venId;
  if (ctx.store.getReportMetadata(venId) === undefined) return { state: 'awaiting-metadata', venId, settledFrom: 'imported meter data only' };
  const open = ctx.store.listReportRequests(venId).some((r) => r.reportName === REPORT_NAMES.usage && !CLOSED.has(r.state));
  return open ? { state: 'requested', venId, settledFrom: 'telemetry and imported meter data' } : { state: 'not-offered', venId, settledFrom: 'imported meter data only' };
}

/** The VTN's report requests and the telemetry it received, for the admin API. */
export interface ReportsApi {
  /** Where a customer's usage telemetry stands (the customer view). */
  usageOf(customerId: string): UsageTelemetryView;
  /** The VEN's last metadata (its `oadrReport`s) and when it came. */
  metadata(venId: string): { readonly reports: readonly Report[]; readonly at: number } | undefined;
  requests(venId: string): ReportRequestRecord[];
  /** Stored telemetry points with `fromMs ≤ start < toMs`. */
  telemetry(venId: string, fromMs?: number, toMs?: number): TelemetryPointRecord[];
  /** Request, by oadrCreateReport, what the metadata offers and nothing open covers; returns the new requests. */
  requestTelemetry(venId: string): ReportRequestRecord[];
  /**
   * Request the VEN's logged usage from `fromMs` to `toMs` (HISTORY_USAGE, one report, R324, R325),
   * by oadrCreateReport. Its data is stored and shown like telemetry; it does not go to the ledger.
   */
  requestHistory(venId: string, span: { readonly fromMs: number; readonly toMs: number }): ReportRequestRecord;
  /** Cancel one request: stand-alone oadrCancelReport (R336, R345) or piggy-backed (R328). */
  cancel(venId: string, reportRequestId: string, options?: CancelReportOptions): ReportRequestRecord;
}

export function createReportsApi(ctx: VtnContext): ReportsApi {
  const registered = (venId: string): VenRegistration => {
    const reg = ctx.store.getRegistration(venId);
    if (reg === undefined) throw new VtnError('NOT_FOUND', `no VEN '${venId}' is registered; list the VENs to find its venID`);
    return reg;
  };
  return {
    usageOf: (customerId) => usageTelemetryOf(ctx, customerId),
    metadata(venId) {
      const m = ctx.store.getReportMetadata(venId);
      return m === undefined ? undefined : { reports: m.reports as Report[], at: m.at };
    },
    requests: (venId) => ctx.store.listReportRequests(venId),
    telemetry: (venId, fromMs, toMs) => ctx.store.listTelemetryPoints(venId, fromMs, toMs),
    requestTelemetry(venId) {
      const reg = registered(venId);
      const now = ctx.now();
      const metadata = (ctx.store.getReportMetadata(venId)?.reports ?? []) as Report[];
      const open = ctx.store.listReportRequests(venId).filter((r) => r.state === 'requested' || r.state === 'active');
      const planned = planReportRequests(ctx, reg, metadata).filter((r) => !open.some((o) => o.reportSpecifierId === r.reportSpecifierId));
      if (planned.length === 0) return [];
      ctx.store.transaction(() => {
        for (const r of planned) ctx.store.putReportRequest(r);
        queueCreateReport(ctx, venId, planned, now);
      });
      ctx.log.info({ venId, requested: planned.map((r) => r.reportRequestId) }, 'reports requested by oadrCreateReport');
      return planned;
    },
    requestHistory(venId, { fromMs, toMs }) {
      registered(venId);
      const now = ctx.now();
      if (!(Number.isFinite(fromMs) && Number.isFinite(toMs) && fromMs < toMs)) throw new VtnError('INVALID_ARGUMENT', 'history: from must be before to');
      if (toMs > now) throw new VtnError('INVALID_ARGUMENT', `history ends ${new Date(toMs).toISOString()}, after now: history is the past (R325); telemetry brings what comes`);
      const metadata = (ctx.store.getReportMetadata(venId)?.reports ?? []) as Report[];
      const offer = metadata.find((r) => r.reportName === METADATA_PREFIX + REPORT_NAMES.history);
      if (offer === undefined) throw new VtnError('NOT_ALLOWED', `VEN ${venId} offers no ${METADATA_PREFIX}${REPORT_NAMES.history} in its metadata; it keeps no history the VTN can ask for`);
      const descriptions = usageDescriptions(offer);
      if (descriptions.length === 0) throw new VtnError('NOT_ALLOWED', `the ${REPORT_NAMES.history} of VEN ${venId} offers no data point in W, Wh or pulses with a pulse factor`);
      const offeredMs = msOf(offer.duration);
      if (offeredMs !== undefined && offeredMs > 0 && toMs - fromMs > offeredMs) {
        throw new VtnError('INVALID_ARGUMENT', `history of ${formatDuration(toMs - fromMs)} asked, but VEN ${venId} keeps ${offer.duration ?? ''} (R340); ask for a shorter span`);
      }
      const request: ReportRequestRecord = {
        venId,
        reportRequestId: ctx.newId('rr'),
        reportSpecifierId: offer.reportSpecifierId,
        reportName: REPORT_NAMES.history,
        rIds: descriptions.map((d) => d.rId),
        units: unitsOf(descriptions),
        granularityMs: 0,
        backDurationMs: 0,
        historyFromMs: fromMs,
        historyToMs: toMs,
        state: 'requested',
        createdAt: now,
        updatedAt: now,
      };
      ctx.store.transaction(() => {
        ctx.store.putReportRequest(request);
        queueCreateReport(ctx, venId, [request], now);
      });
      ctx.log.info({ venId, reportRequestId: request.reportRequestId, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() }, 'history requested (HISTORY_USAGE)');
      return request;
    },
    cancel(venId, reportRequestId, options = {}) {
      registered(venId);
      const r = ctx.store.getReportRequest(venId, reportRequestId);
      if (r === undefined) throw new VtnError('NOT_FOUND', `VEN ${venId} has no report request '${reportRequestId}'; list its reports to find the id`);
      if (CLOSED.has(r.state)) throw new VtnError('NOT_ALLOWED', `report request '${reportRequestId}' is already ${r.state}`);
      const now = ctx.now();
      let next: ReportRequestRecord;
      if (options.piggyback === true) {
        next = { ...r, state: 'cancel-piggyback', updatedAt: now };
        ctx.store.putReportRequest(next);
      } else {
        next = { ...r, state: 'cancelling', reportToFollow: options.reportToFollow === true, updatedAt: now };
        ctx.store.transaction(() => {
          ctx.store.putReportRequest(next);
          queuePayload(ctx, venId, cancelReportPayload(ctx, venId, [reportRequestId], options.reportToFollow === true));
        });
      }
      ctx.log.info({ venId, reportRequestId, piggyback: options.piggyback === true, reportToFollow: options.reportToFollow === true }, 'report request cancelled');
      return next;
    },
  };
}
