/**
 * OadrPoll (R500, rules §7): one queued payload per poll, oadrResponse 200 when the queue is
 * empty, 452/463 for a wrong or unknown venID. The queue is the store's, so it survives restarts.
 */
import { OadrProtocolError, ResponseCode, type Payload, type Poll } from '../../oadr/index.ts';
import { oadrResponse, requireVen, type VtnContext } from './context.ts';
import { buildDistributeEvent } from './event-service.ts';
import type { QueueItem } from '../store/store.ts';

/** The payload a queue item stands for; an oadrDistributeEvent is built now, with current statuses. */
export function materialize(ctx: VtnContext, item: QueueItem): Payload {
  if (item.kind === 'DistributeEvent' || item.payload === undefined) return buildDistributeEvent(ctx, item.venId);
  return item.payload;
}

export function handlePoll(ctx: VtnContext, p: Poll): Payload {
  const reg = requireVen(ctx, p.venId);
  if (!reg.httpPullModel) {
    throw new OadrProtocolError(ResponseCode.COMPLIANCE_ERROR, `VEN ${reg.venId} registered for HTTP push; oadrPoll is for pull VENs only (R500, R501)`);
  }
  // The common poll finds the queue empty: the store answers that without a transaction (from memory).
  if (ctx.store.peek(reg.venId) === undefined) return oadrResponse(reg.venId, ResponseCode.OK);
  // Taking the item and recording its delivery commit together: one fsync per delivering poll, not two.
  return ctx.store.transaction(() => {
    const item = ctx.store.shift(reg.venId);
    if (item === undefined) return oadrResponse(reg.venId, ResponseCode.OK);
    return materialize(ctx, item);
  });
}
