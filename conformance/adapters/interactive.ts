/**
 * The interactive adapter: tells the operator what to make the VTN do, and waits for Enter (as the
 * commercial harness does). No Enter within the time-out: the action failed.
 */
import { createInterface } from 'node:readline';
import type { AdapterAction, AdapterOrder, VtnAdapter } from './adapter.ts';

export interface InteractiveAdapterOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** Default 120 s. */
  readonly timeoutMs?: number;
}

/** The instruction for one action, in words an operator of any VTN can follow. */
export function instruction(action: AdapterAction, o: AdapterOrder): string {
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
  }
}

export function createInteractiveAdapter(options: Readonly<InteractiveAdapterOptions>): VtnAdapter {
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
