/**
 * Telemetry checked at the edge, where an oadrUpdateReport is first read, before anything is
 * stored or sent to the ledger: a report whose intervals or values cannot be true is refused whole
 * with 454 (INVALID_DATA) and a description naming the interval, so one absurd value never reaches
 * the store or the ledger, where it would block the customer's settlement. The rules:
 *
 * - every interval starts at a real time: not before 2000-01-01, not more than a day ahead of the
 *   VTN's clock (a year `0001` is refused, not read as some other year);
 * - no negative duration;
 * - the same data point (rID) for the same interval start only once per report;
 * - values finite and physically plausible for one customer: |W| ≤ its `maxTelemetryW` (its own, else its program's),
 *   |Wh| ≤ that power over the interval (over 100 years for a register reading without duration);
 * - the payload's kind matches the report: usage reports carry floats (`payloadFloat`),
 *   TELEMETRY_STATUS carries resource statuses (`oadrPayloadResourceStatus`), and every interval of
 *   one status report has the same set of `oadrLoadControlState` children (R334).
 */
import { OadrProtocolError, reportIntervalSpans, ResponseCode, type Report } from '../../oadr/index.ts';
import type { ReportRequestRecord } from '../store/store.ts';

/** The report whose data points are resource statuses (R334). */
const STATUS_REPORT = 'TELEMETRY_STATUS';

/** The earliest interval start accepted. */
export const MIN_REPORT_TIME_MS = Date.UTC(2000, 0, 1);
/** How far ahead of the VTN's clock an interval may start (clock skew). */
export const MAX_REPORT_LEAD_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const REGISTER_SPAN_MS = 100 * 365 * 86_400_000;

function refuse(r: Report, what: string): never {
  throw new OadrProtocolError(ResponseCode.INVALID_DATA, `report '${r.reportRequestId}': ${what}; nothing of this oadrUpdateReport was stored, send it again without it`);
}

/** Throws 454 for the first implausible interval or value of `r` (answering `request`). */
export function checkTelemetryValues(r: Report, request: ReportRequestRecord, limits: { readonly maxPowerW: number; readonly now: number }): void {
  let spans;
  try {
    spans = reportIntervalSpans(r);
  } catch (err) {
    refuse(r, `an interval's dtstart or duration cannot be read (${(err as Error).message})`);
  }
  const seen = new Set<string>();
  const status = request.reportName === STATUS_REPORT;
  let controls: string | undefined;
  for (const { startMs, durationMs, index } of spans) {
    if (!Number.isFinite(startMs)) continue; // R314: checked by the caller (no dtstart)
    const at = `interval ${index}`;
    if (startMs < MIN_REPORT_TIME_MS) refuse(r, `${at} starts ${new Date(startMs).toISOString()}, before 2000-01-01`);
    if (startMs > limits.now + MAX_REPORT_LEAD_MS) refuse(r, `${at} starts ${new Date(startMs).toISOString()}, more than a day after the VTN's clock`);
    if (!(durationMs >= 0)) refuse(r, `${at} has a negative duration`);
    for (const pl of (r.intervals ?? [])[index]?.payloads ?? []) {
      const key = `${pl.rId}|${startMs}`;
      if (seen.has(key)) refuse(r, `${at}: rID '${pl.rId}' at ${new Date(startMs).toISOString()} appears twice in one report`);
      seen.add(key);
      if (status !== (pl.value.type === 'resourceStatus')) {
        refuse(r, `${at}: rID '${pl.rId}' carries ${pl.value.type === 'float' ? 'a payloadFloat' : 'an oadrPayloadResourceStatus'}, but ${request.reportName} data points are ${status ? 'oadrPayloadResourceStatus' : 'payloadFloat'} (R334, §8.3.1.1)`);
      }
      if (pl.value.type === 'resourceStatus') {
        const present = Object.entries(pl.value.loadControlState ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k).sort().join(', ');
        controls ??= present;
        if (present !== controls) refuse(r, `${at}: rID '${pl.rId}' has oadrLoadControlState children [${present}], other intervals [${controls}]; every interval of one TELEMETRY_STATUS report has the same set (R334)`);
      }
      if (pl.value.type !== 'float') continue;
      const u = request.units[pl.rId] ?? { unit: '', scale: 1 };
      const v = pl.value.value * u.scale;
      if (!Number.isFinite(v)) refuse(r, `${at}: rID '${pl.rId}' value ${String(pl.value.value)} is not a finite number`);
      const max = u.unit === 'W' ? limits.maxPowerW : u.unit === 'Wh' ? (limits.maxPowerW * (durationMs > 0 ? durationMs : REGISTER_SPAN_MS)) / HOUR_MS : Infinity;
      if (Math.abs(v) > max) refuse(r, `${at}: rID '${pl.rId}' value ${v} ${u.unit} is beyond the plausible ${max} ${u.unit} of this customer (maxTelemetryW ${limits.maxPowerW} W)`);
    }
  }
}
