/**
 * The interactive adapter: tells the operator what to make the VTN or VEN under test do, and waits
 * for Enter (as the commercial harness does). No Enter within the time-out: the action failed.
 */
import { createInterface } from 'node:readline';
import type { Adapter, AdapterAction, AdapterOrder, VenAdapterAction } from './adapter.ts';

export interface InteractiveAdapterOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** Default 120 s. */
  readonly timeoutMs?: number;
}

/** The instruction for one action, in words an operator of any VTN can follow. */
export function instruction(action: AdapterAction | VenAdapterAction, o: AdapterOrder): string {
  const event = o.eventId === undefined ? '' : ` '${o.eventId}'`;
  switch (action) {
    case 'issue-event': {
      const start = new Date(o.startMs ?? Date.now()).toISOString();
      const extra = [o.priority === undefined ? '' : `priority ${o.priority}`, o.responseRequired === undefined ? '' : `response required: ${o.responseRequired}`, o.startAfterMs === undefined ? '' : `startafter ${o.startAfterMs / 1000} s`].filter((s) => s !== '');
      return `issue an event to VEN ${o.venId}: start ${start}, ${o.durationMinutes ?? 15} minutes, values ${(o.values ?? [1]).join(', ')}${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`;
    }
    case 'modify-event':
      return `modify event${event} of VEN ${o.venId}: set its values to ${(o.values ?? [1]).join(', ')}`;
    case 'cancel-event':
      return `cancel event${event} of VEN ${o.venId}`;
    case 'request-report':
      return `request the telemetry report VEN ${o.venId} offers (oadrCreateReport)`;
    case 'cancel-registration':
      return `cancel the registration of VEN ${o.venId}`;
    case 'request-reregistration':
      return `ask VEN ${o.venId} to register again (oadrRequestReregistration)`;
    case 'opt-schedule': {
      const start = new Date(o.startMs ?? Date.now()).toISOString();
      const length = o.durationMinutes === 0 ? 'open-ended' : `${o.durationMinutes ?? 60} minutes`;
      const scope = o.resourceId === undefined ? 'the whole VEN' : `its resource ${o.resourceId} only`;
      return `make VEN ${o.venId} send an ${o.optType ?? 'optOut'} availability schedule (oadrCreateOpt${o.optId === undefined ? '' : `, optID ${o.optId} if it lets you choose`}) from ${start}, ${length}, for ${scope}`;
    }
    case 'opt-event':
      return `make VEN ${o.venId} send ${o.optType ?? 'optOut'} for event${event} (oadrCreateOpt with the event's ID); if the VEN refuses, that is fine: press Enter all the same`;
    case 'cancel-opt':
      return `make VEN ${o.venId} cancel its opt '${o.optId ?? ''}' (oadrCancelOpt); if the VEN refuses, that is fine: press Enter all the same`;
  }
}

export function createInteractiveAdapter<A extends AdapterAction | VenAdapterAction>(options: Readonly<InteractiveAdapterOptions>): Adapter<A> {
  return {
    name: 'interactive',
    perform(action, o) {
      const timeoutMs = options.timeoutMs ?? 120_000;
      options.output.write(`\nOperator: ${instruction(action, o)}; then press Enter (within ${Math.round(timeoutMs / 1000)} s).\n`);
      return new Promise((resolve, reject) => {
        const rl = createInterface({ input: options.input, terminal: false });
        const timer = setTimeout(() => {
          rl.close();
          reject(new Error(`the operator did not confirm within ${Math.round(timeoutMs / 1000)} s: ${instruction(action, o)}`));
        }, timeoutMs);
        rl.once('line', () => {
          clearTimeout(timer);
          rl.close();
          resolve();
        });
      });
    },
  };
}
