/**
 * What the VTN checks before it serves (docs/ledger.md, "Start-up checks"): SQLite's quick check of
 * each store file (the VTN store, the mapping store, the embedded ledger's block store), then that
 * the stores agree — the ledger is higher than the highest block the mapping store recorded energy
 * in and holds every event transaction the mapping store recorded, and the VTN store holds every
 * event the mapping store notified. (What the ledger side lacks of the VTN store's telemetry is
 * queued again by the outbox's `reconcile()`.) A damaged or lagging store stops the start with
 * what to do; nothing is rebuilt silently. `--repair` re-creates, on request, the events the VTN
 * store lost from the ledger's allocations; a ledger that lost blocks is never repaired here.
 */
import { join } from 'node:path';
import { LEDGER_STORE_FILE, LEDGER_SUBDIR, LedgerError, MAPPING_STORE_FILE, type Ledger, type MappedEvent, type MappingStore } from '../../ledger-bridge/index.ts';
import { quickCheck } from '../../storage/index.ts';
import { LEDGER_RETRY_AFTER_S, VtnError } from '../errors.ts';
import type { LedgerPort } from './port.ts';
import { STORE_FILE } from '../store/sqlite-store.ts';
import type { VtnStore } from '../store/store.ts';

/** Before the stores open: each file passes SQLite's quick check (the embedded ledger's block store unless the ledger is elsewhere: `embeddedLedger` false). */
export function checkStoreFiles(dataDir: string, embeddedLedger = true): void {
  const files = [join(dataDir, STORE_FILE), join(dataDir, MAPPING_STORE_FILE), ...(embeddedLedger ? [join(dataDir, LEDGER_SUBDIR, LEDGER_STORE_FILE)] : [])];
  for (const file of files) {
    const problems = quickCheck(file);
    if (problems.length > 0) {
      throw new VtnError(
        'STORE',
        `${file} is damaged (SQLite quick_check: ${problems.slice(0, 3).join('; ')}); the VTN does not start on a damaged store. ` +
          `Restore it from a backup (the ledger: check the restored copy with 'oadr-ledger ledger verify --data-dir ${dataDir}'), ` +
          `or salvage what is readable with 'sqlite3 ${file} .recover' into a new file and check it before putting it in place`,
      );
    }
  }
}

export interface StoreAgreementInput {
  readonly dataDir: string;
  readonly store: VtnStore;
  readonly ledger: Ledger;
  readonly mappingStore: MappingStore;
  /** Re-create the events the VTN store lacks from their allocations on the ledger (`--repair`). */
  readonly repair?: boolean;
  /** Default program of re-created events. */
  readonly programId?: string;
  /**
   * Where a ledger that is not the embedded one under `dataDir` is (`VtnLedger.location`, e.g. a Fabric
   * channel through a peer): the messages then name it, and what to do is to check the connection.
   */
  readonly remoteLedger?: string;
}

export interface StoreAgreement {
  /** Events the VTN store lacked, queued for re-creation (`repair` only). */
  readonly requeued: readonly string[];
}

/** After the stores opened: the ledger is not behind the mapping store, the VTN store not behind either. */
export async function checkStoresAgree(input: Readonly<StoreAgreementInput>): Promise<StoreAgreement> {
  const { store, ledger, dataDir } = input;
  const ledgerDir = input.remoteLedger ?? join(dataDir, LEDGER_SUBDIR);
  const recover =
    input.remoteLedger === undefined
      ? `the ledger lost committed blocks (a deleted or damaged WAL file?). The VTN never rebuilds a ledger: stop it, restore ${ledgerDir} from a backup, ` +
        `check it with 'oadr-ledger ledger verify --data-dir ${dataDir}', and start again`
      : `the VTN is connected to another network or channel than the one its mapping store was written against (check the connection profile, ` +
        `--fabric-channel and --fabric-chaincode), or the peer is behind its channel (wait until it has caught up). The VTN never rebuilds a ledger`;
  // Energy: the mapping store keeps the highest block a slot of it was recorded in.
  const height = await ledger.height();
  const recordedIn = input.mappingStore.recordedHeight();
  if (recordedIn >= height) {
    throw new VtnError('STORE', `the ledger ${input.remoteLedger === undefined ? 'in ' : 'on '}${ledgerDir} has ${height} blocks, but ${MAPPING_STORE_FILE} recorded energy in block ${recordedIn}: ${recover}`);
  }
  const events = input.mappingStore.listEvents();
  for (const e of events) {
    if (e.txId === '') continue;
    try {
      await ledger.transaction(e.txId);
    } catch (err) {
      if (!(err instanceof LedgerError) || err.code !== 'NOT_FOUND') throw err;
      throw new VtnError('STORE', `the ledger ${input.remoteLedger === undefined ? 'in ' : 'on '}${ledgerDir} (height ${height}) lacks transaction ${e.txId} of event '${e.eventId}', which ${MAPPING_STORE_FILE} recorded: ${recover}`);
    }
  }
  const lost = events.filter((e) => e.status === 'notified' && store.getEvent(e.eventId) === undefined && !store.listEventSagas().some((s) => s.eventId === e.eventId));
  if (lost.length === 0) return { requeued: [] };
  if (input.repair !== true) {
    throw new VtnError(
      'STORE',
      `${join(dataDir, STORE_FILE)} lacks ${lost.length} event(s) the ledger holds (${lost.slice(0, 5).map((e) => `'${e.eventId}'`).join(', ')}): ` +
        `the VTN store lost acknowledged writes (a deleted or damaged WAL file?). Restore it from a backup, or start once with --repair to re-create these events ` +
        `from their allocations on the ledger (VENs receive them again; what else the store lost — registrations, telemetry — stays lost)`,
    );
  }
  for (const e of lost) store.putEventSaga({ eventId: e.eventId, state: 'started', request: sagaRequestOf(e, input.programId ?? 'default'), at: Date.now() });
  return { requeued: lost.map((e) => e.eventId) };
}

/** The creation request of an event as the mapping store recorded it (customer = meter). */
function sagaRequestOf(e: MappedEvent, programId: string): unknown {
  const coveredMs = e.coveredMs ?? e.window.map(() => e.slotMs);
  const durationMs = coveredMs.reduce((a, b) => a + b, 0);
  const customerIds = Object.keys(e.oprByMeter);
  return {
    notice: { eventId: e.eventId, programId, startMs: e.startMs, slotMs: e.slotMs, slots: e.window.length, durationMs, reductionW: e.requestW, customerIds },
    input: { eventId: e.eventId, programId, start: e.startMs, reductionW: e.requestW },
    optedOut: [],
  };
}

/** A ledger port held back until the start-up checks that need the ledger have passed. */
export interface DeferredLedgerPort<P extends LedgerPort> {
  /** The port to give the VTN: until `open()` its calls fail with LEDGER_UNAVAILABLE (`why`); `ping` and the local reads pass. */
  readonly port: P;
  open(): void;
}

/**
 * When the VTN starts while its ledger cannot be reached (a Fabric peer down), it serves VENs at
 * once and runs the checks above when the ledger answers. Until they pass nothing may reach the
 * ledger — a ledger that turns out to be another network must receive nothing — so the VTN's
 * ledger work meets the same answer as while the peer is away: telemetry and opt answers wait in
 * the outbox, event creations are kept pending, ledger views answer 503.
 */
export function deferLedgerPort<P extends LedgerPort>(port: P, why: string): DeferredLedgerPort<P> {
  let open = false;
  const refused = new Map<PropertyKey, unknown>();
  return {
    port: new Proxy(port, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (open || name === 'ping' || typeof value !== 'function') return value;
        // Checked at each call, not at the look-up: wrappers (instrumentLedger) keep the function they got.
        let f = refused.get(name);
        if (f === undefined) {
          f = (...args: unknown[]): unknown => (open ? (value as (...a: unknown[]) => unknown).apply(target, args) : Promise.reject(new VtnError('LEDGER_UNAVAILABLE', why, { retryAfterS: LEDGER_RETRY_AFTER_S })));
          refused.set(name, f);
        }
        return f;
      },
    }),
    open() {
      open = true;
    },
  };
}
