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
import { DrContract } from '../chaincode/index.ts';
import { contractMetadata } from '../chaincode/index.ts';
import { runClientJob, type ClientContext, type ClientKey, type ClientOutcome } from './client-transaction.ts';
import { createEndorser, type Endorser } from './endorser.ts';
import { createMsps } from './msp.ts';
import { openStore, type LedgerStore } from './store.ts';
import { packOutcome, type Done, type FromWorker, type ToWorker, type WorkerData } from './endorsement-pool.ts';

const data = workerData as WorkerData;
if (!parentPort) throw new Error('endorsement-worker.ts runs as a worker thread of the embedded ledger');
const port = parentPort;

interface WorkerState {
  readonly context: ClientContext;
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
    return { context: { channelId: data.channel, chaincodeName: data.chaincodeName, endorsers }, close: () => opened.close() };
  } catch (err) {
    store?.close();
    port.postMessage({ type: 'failed', error: (err as Error).message ?? String(err) } satisfies FromWorker);
    return undefined;
  }
}

const state = init();
const clients = new Map<number, ClientKey>();

// Answers finished in the same turn of the event loop travel in one message: fewer thread wake-ups.
let outbox: Done[] = [];
let transfers: ArrayBuffer[] = [];
let flushing = false;

function flush(): void {
  flushing = false;
  const message: FromWorker = { type: 'done', results: outbox };
  const list = transfers;
  outbox = [];
  transfers = [];
  port.postMessage(message, list);
}

function reply(done: Done, transfer: ArrayBuffer[] = []): void {
  outbox.push(done);
  transfers.push(...transfer);
  if (!flushing) {
    flushing = true;
    setImmediate(flush);
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
  const client = clients.get(message.clientId);
  if (!client) {
    reply({ seq: message.seq, error: `unknown client ${message.clientId}` });
    return;
  }
  if (!state) {
    reply({ seq: message.seq, error: 'the endorsement worker did not start' });
    return;
  }
  runClientJob(state.context, client, message.job).then(
    (outcome: ClientOutcome) => {
      const packed = packOutcome(outcome);
      reply({ seq: message.seq, outcome: packed.outcome }, packed.transfer);
    },
    (err: unknown) => reply({ seq: message.seq, error: (err as Error).message ?? String(err) }),
  );
}

if (state) {
  port.on('message', handle);
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}
