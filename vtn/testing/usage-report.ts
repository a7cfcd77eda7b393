/**
 * A VEN of the report tests over HTTP: `enrolUsageReporter` registers it and its TELEMETRY_USAGE
 * metadata (10 s) and returns the report request the VTN made; `usageReport` is its
 * oadrUpdateReport of one 15-minute slot, one 10-second interval per value from `slotStart`.
 */
import assert from 'node:assert/strict';
import type { Payload, ReportInterval } from '../../oadr/index.ts';
import { call, registerVen, ven } from './fake-ven.ts';

export function usageReport(venId: string, reportRequestId: string, slotStart: number, values: readonly number[]): Payload {
  const intervals: ReportInterval[] = values.map((w, i) => ({
    dtstart: new Date(slotStart + i * 10_000).toISOString(),
    duration: 'PT10S',
    uid: String(i),
    payloads: [{ rId: 'usage', value: { type: 'float', value: w } }],
  }));
  return {
    type: 'UpdateReport',
    schemaVersion: '2.0b',
    requestId: 'rq-up',
    venId,
    reports: [{ dtstart: new Date(slotStart).toISOString(), intervals, reportRequestId, reportSpecifierId: 'rs-1', reportName: 'TELEMETRY_USAGE', createdDateTime: new Date().toISOString() }],
  };
}

/** Registers a VEN and its usage report; returns what the VEN keeps. */
export async function enrolUsageReporter(url: string, venName = 'house-1'): Promise<{ venId: string; reportRequestId: string }> {
  const { venId } = await registerVen(url, venName);
  const registered = await call(url, 'EiReport', ven.telemetryMetadata(venId, { minPeriod: 'PT10S' }), 'RegisteredReport');
  const reportRequestId = registered.reportRequests?.[0]?.reportRequestId;
  assert.ok(reportRequestId !== undefined, 'the VTN requests TELEMETRY_USAGE');
  return { venId, reportRequestId };
}
