/**
 * Where each interval of a data report starts and how long it lasts. 2.0b allows two forms and a
 * reader takes both (R314, R315): every interval with its own `xcal:dtstart`, or one `dtstart` for
 * the report and intervals that follow each other by their durations (uid 0, 1, 2…, R316). An
 * interval without a duration is a point sample (length 0). Pure.
 */
import { durationToMs } from './duration.ts';
import type { Report } from './model.ts';

export interface ReportIntervalSpan {
  /** ms since the epoch; NaN when neither the interval nor the report has a dtstart. */
  readonly startMs: number;
  readonly durationMs: number;
  /** Position in `report.intervals`. */
  readonly index: number;
}

/** Each interval's start and length (R314, R315): its own dtstart, else the report's plus the durations before it. */
export function reportIntervalSpans(report: Report): ReportIntervalSpan[] {
  const out: ReportIntervalSpan[] = [];
  let cursor = report.dtstart === undefined ? Number.NaN : Date.parse(report.dtstart);
  (report.intervals ?? []).forEach((iv, index) => {
    const startMs = iv.dtstart === undefined ? cursor : Date.parse(iv.dtstart);
    const durationMs = iv.duration === undefined ? 0 : durationToMs(iv.duration, startMs);
    out.push({ startMs, durationMs, index });
    cursor = startMs + durationMs;
  });
  return out;
}
