/**
 * Child process of the event crash tests: opens the VTN (store and embedded ledger in DATA_DIR, the
 * ledger's clock at CLOCK_MS) and creates event EVENT_ID from the ledger for every enrolled
 * customer — or settles it, for the settlement points — SIGKILLing itself at KILL_POINT:
 *
 *   ledger-notified         as soon as notifyDRevent is committed (the ledger's block number rose)
 *   mapping-stored          once the mapping store holds the allocation, before the VTN stores the event
 *   availability-evaluated  settlement: as soon as evaluateAvailability is committed
 *   tokens-minted           settlement: as soon as getDRToken is committed, before the mapping store
 *                           records the event settled
 *
 *   node vtn/testing/event-crash-child.ts DATA_DIR CLOCK_MS EVENT_ID START_MS KILL_POINT
 */
import { createLedgerMapping, type Ledger } from '../../ledger-bridge/index.ts';
import { openVtnLedger } from '../ledger/embedded.ts';
import { createMappingLedgerPort } from '../ledger/mapping-port.ts';
import { createVtn } from '../vtn.ts';

export const KILL_POINTS = ['ledger-notified', 'mapping-stored', 'availability-evaluated', 'tokens-minted'] as const;
/** The ledger function whose commit a kill point follows. */
const KILL_AFTER: Readonly<Record<string, string>> = { 'ledger-notified': 'notifyDRevent', 'availability-evaluated': 'evaluateAvailability', 'tokens-minted': 'getDRToken' };

const [dataDir, clockMs, eventId, startMs, killPoint] = process.argv.slice(2);
if (!dataDir || !clockMs || !eventId || !startMs || !KILL_POINTS.includes(killPoint as (typeof KILL_POINTS)[number])) {
  throw new Error(`usage: event-crash-child.ts DATA_DIR CLOCK_MS EVENT_ID START_MS ${KILL_POINTS.join('|')}`);
}
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};
const now = Number(clockMs);
const vl = await openVtnLedger({ dataDir, clock: () => new Date(now) });
const submit = vl.ledger.submit.bind(vl.ledger);
const ledger = new Proxy(vl.ledger, {
  get(target, key, receiver) {
    if (key !== 'submit') {
      const v = Reflect.get(target, key, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    }
    return async (...a: Parameters<Ledger['submit']>) => {
      const r = await submit(...a);
      if (a[1] === KILL_AFTER[killPoint ?? '']) die();
      return r;
    };
  },
});
const mapping = createLedgerMapping({ ledger, identities: vl.identities, store: vl.store, now: () => now });
const port = createMappingLedgerPort({ mapping, ledger: vl.ledger });
const notify = port.notifyEvent.bind(port);
port.notifyEvent = async (notice) => {
  const oprs = await notify(notice);
  if (killPoint === 'mapping-stored') die();
  return oprs;
};
const vtn = createVtn({ config: { dataDir, registrationPolicy: 'enrolled-only' }, ledger: port, now: () => now });
if (killPoint === 'availability-evaluated' || killPoint === 'tokens-minted') {
  await vtn.events.settle(eventId);
} else {
  await vtn.events.create({ eventId, start: Number(startMs), slots: 4, reductionW: 300 });
}
process.stdout.write('done without a kill\n');
process.exit(3);
