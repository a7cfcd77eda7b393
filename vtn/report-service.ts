/**
 * EiReport, first increment: the VEN's metadata is stored and acknowledged (R309, R306), data
 * reports are stored as telemetry and acknowledged, the VTN's own (empty) metadata is sent on
 * request (R327, R510), acknowledgements get oadrResponse. Report requests to VENs
 * (TELEMETRY_USAGE…) and the ledger mapping come in the reports increment.
 */
import {
  OadrProtocolError,
  ResponseCode,
  type CancelReport,
  type CreateReport,
  type CreatedReport,
  type Payload,
  type RegisterReport,
  type RegisteredReport,
  type UpdateReport,
} from '../oadr/index.ts';
import { SCHEMA_VERSION, eiResponse, oadrResponse, requireVen, type VtnContext } from './context.ts';
import { queuePayload } from './ven-queue.ts';

export function handleRegisterReport(ctx: VtnContext, p: RegisterReport): Payload {
  const reg = requireVen(ctx, p.venId);
  // R306: new metadata replaces what the VTN held.
  ctx.store.putReportMetadata(reg.venId, p.reports ?? [], ctx.now());
  ctx.log.info({ venId: reg.venId, reports: (p.reports ?? []).map((r) => r.reportName ?? r.reportSpecifierId) }, 'VEN metadata registered');
  return { type: 'RegisteredReport', schemaVersion: SCHEMA_VERSION, response: eiResponse(ResponseCode.OK, p.requestId), venId: reg.venId };
}

export function handleUpdateReport(ctx: VtnContext, p: UpdateReport): Payload {
  const reg = requireVen(ctx, p.venId);
  const now = ctx.now();
  ctx.store.transaction(() => {
    for (const r of p.reports ?? []) {
      ctx.store.appendTelemetry({ venId: reg.venId, reportRequestId: r.reportRequestId, reportSpecifierId: r.reportSpecifierId, receivedAt: now, report: r });
    }
  });
  return { type: 'UpdatedReport', schemaVersion: SCHEMA_VERSION, response: eiResponse(ResponseCode.OK, p.requestId), venId: reg.venId };
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

/** The VTN has no periodic reports to cancel: any ID is unknown (R336). */
export function handleCancelReport(ctx: VtnContext, p: CancelReport): Payload {
  requireVen(ctx, p.venId);
  throw new OadrProtocolError(ResponseCode.INVALID_ID, `no report request '${p.reportRequestIds.join("', '")}' is scheduled by this VTN (R336)`);
}

/** Acknowledgements of what the VTN sent (oadrRegisteredReport, oadrCreatedReport): oadrResponse (R500, §8.3.2.1). */
export function handleReportAck(ctx: VtnContext, p: RegisteredReport | CreatedReport): Payload {
  const reg = requireVen(ctx, p.venId);
  return oadrResponse(reg.venId, ResponseCode.OK, p.response.requestId);
}
