/** Builders for OpenADR event payloads in VEN tests (and the scripted VTN). */
import type { DistributeEvent, EventSignal, OadrEvent, Target } from '../../oadr/index.ts';

export interface EventSpec {
  readonly id: string;
  readonly mod?: number;
  readonly status?: 'far' | 'near' | 'active' | 'completed' | 'cancelled';
  readonly dtstart?: string;
  readonly duration?: string;
  readonly startAfter?: string;
  readonly priority?: number;
  readonly marketContext?: string;
  readonly testEvent?: string;
  readonly responseRequired?: 'always' | 'never';
  readonly target?: Target;
  readonly signals?: EventSignal[];
  /** Shorthand: one LOAD_DISPATCH delta signal in W with these interval values (PT15M each). */
  readonly deltas?: readonly number[];
}

/** LOAD_DISPATCH / delta / powerReal W, one interval per value (architecture: the load-amount signal). */
export function loadDispatchDelta(values: readonly number[], intervalDuration = 'PT15M', signalId = 'opr'): EventSignal {
  return {
    intervals: values.map((value, i) => ({ duration: intervalDuration, uid: String(i), value })),
    signalName: 'LOAD_DISPATCH',
    signalType: 'delta',
    signalId,
    itemBase: { type: 'powerReal', description: 'RealPower', units: 'W', siScaleCode: 'none', powerAttributes: { hertz: 50, voltage: 230, ac: true } },
  };
}

export function buildEvent(spec: EventSpec): OadrEvent {
  const deltas = spec.deltas ?? [-1000, -1500];
  const signals = spec.signals ?? [loadDispatchDelta(deltas)];
  const duration = spec.duration ?? `PT${15 * (signals[0]?.intervals.length ?? 1)}M`;
  return {
    descriptor: {
      eventId: spec.id,
      modificationNumber: spec.mod ?? 0,
      ...(spec.priority === undefined ? {} : { priority: spec.priority }),
      marketContext: spec.marketContext ?? 'http://MarketContext1',
      createdDateTime: '2025-06-12T12:00:00.000Z',
      eventStatus: spec.status ?? 'far',
      ...(spec.testEvent === undefined ? {} : { testEvent: spec.testEvent }),
    },
    activePeriod: {
      dtstart: spec.dtstart ?? '2025-06-13T06:00:00.000Z',
      duration,
      ...(spec.startAfter === undefined ? {} : { startAfter: spec.startAfter }),
      notification: 'PT1H',
    },
    signals,
    target: spec.target ?? {},
    responseRequired: spec.responseRequired ?? 'always',
  };
}

export function distribute(events: readonly OadrEvent[], requestId = 'rq-1', vtnId = 'vtn-1'): DistributeEvent {
  return {
    type: 'DistributeEvent',
    schemaVersion: '2.0b',
    response: { code: 200, description: 'OK', requestId },
    requestId,
    vtnId,
    ...(events.length > 0 ? { events: [...events] } : {}),
  };
}
