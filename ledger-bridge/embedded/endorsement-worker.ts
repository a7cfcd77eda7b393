/**
 * An endorsement worker (`node:worker_threads`): runs `runClientJob` — client-signed proposal, the DR
 * contract through fabric-shim on each chosen org's peer, peer signatures, client-signed envelope — for
 * the ledger's thread, so contract execution and three of the five ECDSA operations per transaction use
 * the other core. It reads committed state through its own read-only connection to the store (SQLite
 * WAL: it sees every block committed before a read starts); whatever it read, the committer's MVCC
 * check decides. Started by `createEndorsementPool`; not a public entry point.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { DrContract } from '../../chaincode/index.ts';
import { contractMetadata } from '../../chaincode/index.ts';
import { runClientJob, type ClientContext, type ClientKey, type ClientOutcome } from './client-transaction.ts';
import type { SignatureRecord } from './signature-memo.ts';
import { createEndorser, type Endorser } from './endorser.ts';
import { createMsps } from './msp.ts';
import { openStore, type LedgerStore } from './store.ts';
import { packOutcome, type Done, type FromWorker, type JobMessage, type ToWorker, type WorkerData } from './endorsement-pool.ts';

const data = workerData as WorkerData;
if (!parentPort) throw new Error('endorsement-worker.ts runs as a worker thread of the embedded ledger');
const port = parentPort;

interface WorkerState {
  readonly context: ClientContext;
  readonly store: LedgerStore;
  readonly close: () => void;
}

/** Opens the store and builds the peers; a failure is reported to the pool (never thrown: fabric-shim's
 * uncaughtException handler would swallow it and leave the pool waiting). */
function init(): WorkerState | undefined {
  let store: LedgerStore | undefined;
  try {
    store = openStore(data.dataDir, { reader: true });
    const world = store.worldState;
    const msps = createMsps(data.orgs);
    const contract = new DrContract();
    const metadata = contractMetadata();
    const endorsers = new Map<string, Endorser>(
      data.orgs.map((o) => [o.mspId, createEndorser({ world, contract, contractMetadata: metadata, channelId: data.channel, chaincodeName: data.chaincodeName, peer: o.peer, msps })]),
    );
    const opened = store;
    const context: ClientContext = { channelId: data.channel, chaincodeName: data.chaincodeName, endorsers };
    return { context, store: opened, close: () => opened.close() };
  } catch (err) {
    store?.close();
    port.postMessage({ type: 'failed', error: (err as Error).message ?? String(err) } satisfies FromWorker);
    return undefined;
  }
}

const state = init();
const clients = new Map<number, ClientKey>();

/**
 * Jobs run in small chunks and each chunk's answers are posted as soon as it is done. Started all at
 * once, the jobs' awaits interleave (nothing here waits for I/O: SQLite reads and signatures are
 * synchronous), so every job of a burst finished at the end of the burst and the ledger thread got the
 * whole burst late, in one message: measured, the worker then sat idle about 30 % of a saturation run.
 */
const CHUNK = 16;
const queue: JobMessage[] = [];
let pumping = false;

async function runOne(message: JobMessage, out: Done[], signatures: SignatureRecord[], transfers: ArrayBuffer[]): Promise<void> {
  const client = clients.get(message.clientId);
  if (!client) {
    out.push({ seq: message.seq, error: `unknown client ${message.clientId}` });
    return;
  }
  if (!state) {
    out.push({ seq: message.seq, error: 'the endorsement worker did not start' });
    return;
  }
  try {
    // The signatures this submit made travel with its answer, for the ledger thread's memo.
    const records: SignatureRecord[] = [];
    const context: ClientContext = data.recordSignatures ? { ...state.context, record: (r) => void records.push(r) } : state.context;
    const outcome: ClientOutcome = await runClientJob(context, client, message.job);
    const packed = packOutcome(outcome, records);
    out.push({ seq: message.seq, outcome: packed.outcome });
    signatures.push(...packed.signatures);
    transfers.push(...packed.transfer);
  } catch (err) {
    out.push({ seq: message.seq, error: (err as Error).message ?? String(err) });
  }
}

async function pump(): Promise<void> {
  try {
    while (queue.length > 0) {
      const chunk = queue.splice(0, CHUNK);
      const results: Done[] = [];
      const signatures: SignatureRecord[] = [];
      const transfers: ArrayBuffer[] = [];
      // One read snapshot per chunk: its jobs read one committed state, SQLite takes the WAL read
      // lock once instead of once per statement, and keys read by several jobs (the program, the
      // retailer) come from the snapshot's cache (store.ts beginSnapshot).
      const snapshot = state !== undefined && state.store.beginSnapshot();
      try {
        await Promise.all(chunk.map((m) => runOne(m, results, signatures, transfers)));
      } finally {
        if (snapshot && state) state.store.endSnapshot();
      }
      port.postMessage({ type: 'done', results, ...(signatures.length > 0 ? { signatures } : {}) } satisfies FromWorker, transfers);
      // Let the jobs and clients the ledger thread sent meanwhile arrive.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    pumping = false;
  }
}

function handle(message: ToWorker): void {
  if (message.type === 'jobs') {
    for (const job of message.jobs) handle(job);
    return;
  }
  if (message.type === 'client') {
    clients.set(message.id, { mspId: message.mspId, certificatePem: message.certificatePem, key: message.key as KeyObject });
    return;
  }
  if (message.type === 'close') {
    state?.close();
    port.close();
    return;
  }
  queue.push(message);
  if (!pumping) {
    pumping = true;
    void pump();
  }
}

if (state) {
  port.on('message', handle);
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}
