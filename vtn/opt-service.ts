/**
 * EiOpt, first increment: opt schedules are stored per VEN and acknowledged with the optID and
 * requestID echoed (R204, R207, R208). Validation of targets (R206, R209) and honouring the
 * schedules come in the opt increment.
 */
import { OadrProtocolError, ResponseCode, type CancelOpt, type CreateOpt, type Payload } from '../oadr/index.ts';
import { SCHEMA_VERSION, eiResponse, requireVen, type VtnContext } from './context.ts';

export function handleCreateOpt(ctx: VtnContext, p: CreateOpt): Payload {
  const reg = requireVen(ctx, p.venId);
  ctx.store.putOpt(reg.venId, p.optId, p, ctx.now());
  ctx.log.info({ venId: reg.venId, optId: p.optId, optType: p.optType, eventId: p.qualifiedEventId?.eventId }, 'opt schedule stored');
  return { type: 'CreatedOpt', schemaVersion: SCHEMA_VERSION, response: eiResponse(ResponseCode.OK, p.requestId), optId: p.optId };
}

export function handleCancelOpt(ctx: VtnContext, p: CancelOpt): Payload {
  const reg = requireVen(ctx, p.venId);
  if (!ctx.store.deleteOpt(reg.venId, p.optId)) throw new OadrProtocolError(ResponseCode.INVALID_ID, `VEN ${reg.venId} has no opt '${p.optId}'`);
  return { type: 'CanceledOpt', schemaVersion: SCHEMA_VERSION, response: eiResponse(ResponseCode.OK, p.requestId), optId: p.optId };
}
