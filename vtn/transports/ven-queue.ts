/**
 * Putting payloads in a VEN's durable FIFO queue (R500). An `oadrDistributeEvent` is queued as a
 * marker and built when delivered, and a new one replaces an undelivered older one, since each
 * carries the VEN's complete set of events (R50; CHOICE in rules §7). Other payloads are never
 * dropped or merged.
 */
import type { Payload } from '../../oadr/index.ts';
import type { VtnContext } from '../services/context.ts';

export function queuePayload(ctx: VtnContext, venId: string, payload: Payload): void {
  ctx.store.enqueue(venId, payload.type, payload, ctx.now());
  ctx.wake(venId);
}

export function queueDistributeEvent(ctx: VtnContext, venId: string): void {
  ctx.store.transaction(() => {
    ctx.store.removeQueuedKind(venId, 'DistributeEvent');
    ctx.store.enqueue(venId, 'DistributeEvent', undefined, ctx.now());
  });
  ctx.wake(venId);
}
