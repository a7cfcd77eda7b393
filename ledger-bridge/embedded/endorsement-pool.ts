/**
 * The embedded ledger's endorsement workers: `size` worker threads (`endorsement-worker.ts`) that each
 * run `runClientJob` for the DR contract over a read-only connection to the store. A job goes to the
 * worker with the fewest jobs in hand. A client identity's key is sent to a worker once (a `KeyObject`
 * is cloneable) and named by a number afterwards. Envelope bytes come back transferred, not copied.
 *
 * A worker that dies fails the jobs it held (ENDORSEMENT: submit again) and leaves the pool; when none is
 * left, `prepare` answers `undefined` and the ledger endorses on its own thread.
 */
import { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import type { ClientJob, ClientOutcome, PreparedTransaction } from './client-transaction.ts';
import { LedgerError } from '../errors.ts';
import type { MspDefinition } from './msp.ts';
import type { SignatureMemo, SignatureRecord } from './signature-memo.ts';
import { keyObjectOf, type SigningKey } from './signer.ts';

export interface WorkerOrg extends MspDefinition {
  readonly peer: { readonly mspId: string; readonly certificatePem: string; readonly privateKey: KeyObject };
}

export interface WorkerData {
  readonly dataDir: string;
  readonly channel: string;
  readonly chaincodeName: string;
  readonly orgs: readonly WorkerOrg[];
  /** Whether to report the signatures made for submits (the ledger thread keeps a memo). */
  readonly recordSignatures: boolean;
}

export type JobMessage = { readonly type: 'job'; readonly seq: number; readonly clientId: number; readonly job: ClientJob };
type ClientMessage = { readonly type: 'client'; readonly id: number; readonly mspId: string; readonly certificatePem: string; readonly key: KeyObject };

/** To a worker: client keys and jobs, in order, batched per turn of the ledger thread's event loop. */
export type ToWorker = ClientMessage | JobMessage | { readonly type: 'jobs'; readonly jobs: readonly (ClientMessage | JobMessage)[] } | { readonly type: 'close' };

export interface Done {
  readonly seq: number;
  readonly outcome?: ClientOutcome;
  readonly error?: string;
}

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly error: string }
  /** `signatures`: what the worker signed for these submits, for the ledger thread's memo. */
  | { readonly type: 'done'; readonly results: readonly Done[]; readonly signatures?: readonly SignatureRecord[] };

export interface EndorsementPoolOptions {
  readonly size: number;
  /** Aborting it while the workers start terminates them (the ledger closes). */
  readonly signal?: AbortSignal;
  /** Default 60 s: workers not up by then are terminated and the pool is not created. */
  readonly startTimeoutMs?: number;
  readonly dataDir: string;
  readonly channel: string;
  readonly chaincodeName: string;
  readonly orgs: readonly (MspDefinition & { readonly peer: { readonly mspId: string; readonly certificatePem: string; readonly privateKey: SigningKey } })[];
  /** Receives the signatures the workers made for submits (their records travel with the results). */
  readonly memo?: SignatureMemo;
}

export interface ClientIdentityRef {
  readonly mspId: string;
  readonly certificatePem: string;
  readonly privateKey: SigningKey;
}

export interface EndorsementPool {
  /** Runs the job on a worker; `undefined` when no worker is left (the caller endorses itself). */
  prepare(identity: ClientIdentityRef, job: ClientJob): Promise<ClientOutcome> | undefined;
  readonly size: number;
  close(): Promise<void>;
}

function varintLength(n: number): number {
  let length = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) length++;
  return length;
}

/** A copy of `bytes` that owns exactly its buffer (so cloning or transferring it moves only its bytes). */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

/**
 * Makes an outcome cheap to post. The envelope's buffer is transferred (not copied), and every byte
 * field of its decoded form that occurs in the envelope — all of them do: they are parts of it — is
 * sent as a view of that same buffer (a view of a transferred buffer crosses without a copy): ~2 µs
 * less per transaction in the worker than copying each field (micro-benchmark), and no copies arrive
 * on the ledger thread. A field not found in the envelope (none expected) is copied as before.
 */
export function packOutcome(
  outcome: ClientOutcome,
  records: readonly SignatureRecord[] = [],
): { outcome: ClientOutcome; signatures: SignatureRecord[]; transfer: ArrayBuffer[] } {
  if (!outcome.ok || !outcome.envelope || !outcome.prepared) return { outcome, signatures: [], transfer: [] };
  const p = outcome.prepared;
  const envelope = own(outcome.envelope);
  const haystack = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  // `from`: where the field is expected (the envelope's fields come in a known order: payload —
  // header, proposal response payload with the writes and the result, endorsements — then the
  // signature), checked first and else searched from there; a miss searches the whole envelope. The
  // same array asked again (the memo records' parts are the prepared fields) gets the same view.
  const views = new Map<Uint8Array, Uint8Array>();
  const view = (bytes: Uint8Array, from = 0): Uint8Array => {
    if (bytes.byteLength === 0) return new Uint8Array(0);
    const known = views.get(bytes);
    if (known !== undefined) return known;
    const n = bytes.byteLength;
    let at = from + n <= haystack.byteLength && haystack.compare(bytes, 0, n, from, from + n) === 0 ? from : haystack.indexOf(bytes, from);
    if (at < 0 && from > 0) at = haystack.indexOf(bytes);
    const v = at < 0 ? own(bytes) : envelope.subarray(at, at + n);
    views.set(bytes, v);
    return v;
  };
  // Envelope = field 1 (payload: tag, varint length, bytes), field 2 (signature: the same).
  const payloadAt = 1 + varintLength(p.payloadBytes.byteLength);
  const prpl = view(p.proposalResponsePayload);
  const prplAt = prpl.buffer === envelope.buffer ? prpl.byteOffset - envelope.byteOffset : 0;
  const afterPrpl = prplAt === 0 ? 0 : prplAt + prpl.byteLength;
  const prepared: PreparedTransaction = {
    ...p,
    creator: view(p.creator),
    nonce: view(p.nonce),
    payloadBytes: view(p.payloadBytes, payloadAt),
    signature: view(p.signature, Math.max(0, envelope.byteLength - p.signature.byteLength)),
    proposalResponsePayload: prpl,
    endorsements: p.endorsements.map((e) => ({ endorser: view(e.endorser, afterPrpl), signature: view(e.signature, afterPrpl) })),
    writeSet: {
      writes: p.writeSet.writes.map((w) => (w.value ? { ...w, value: view(w.value, prplAt) as Buffer } : w)),
      metadataWrites: p.writeSet.metadataWrites.map((m) => ({ key: m.key, entries: m.entries.map((e) => ({ name: e.name, value: view(e.value) as Buffer })) })),
    },
  };
  // The signed bytes of the memo records are parts of the envelope too: views, not copies.
  const signatures = records.map((r) => ({ certificatePem: r.certificatePem, parts: r.parts.map((b) => view(b)), signature: view(r.signature) }));
  return { outcome: { ...outcome, envelope, result: view(outcome.result, prplAt), prepared }, signatures, transfer: [envelope.buffer as ArrayBuffer] };
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Buffers again where the store and the policies expect them (structured clone gives Uint8Arrays). */
function unpackOutcome(outcome: ClientOutcome): ClientOutcome {
  if (!outcome.ok || !outcome.prepared) return outcome;
  const p = outcome.prepared;
  return {
    ...outcome,
    prepared: {
      ...p,
      writeSet: {
        writes: p.writeSet.writes.map((w) => (w.value ? { ...w, value: asBuffer(w.value) } : w)),
        metadataWrites: p.writeSet.metadataWrites.map((m) => ({ key: m.key, entries: m.entries.map((e) => ({ name: e.name, value: asBuffer(e.value) })) })),
      },
    },
  };
}

interface Slot {
  readonly worker: Worker;
  readonly clients: Set<number>;
  readonly pending: Map<number, { resolve(o: ClientOutcome): void; reject(e: Error): void }>;
  outbox: (ClientMessage | JobMessage)[];
  alive: boolean;
}

export async function createEndorsementPool(options: Readonly<EndorsementPoolOptions>): Promise<EndorsementPool> {
  const workerData: WorkerData = {
    dataDir: options.dataDir,
    channel: options.channel,
    chaincodeName: options.chaincodeName,
    recordSignatures: options.memo !== undefined,
    orgs: options.orgs.map((o) => ({
      mspId: o.mspId,
      rootCertificates: o.rootCertificates,
      peer: { mspId: o.peer.mspId, certificatePem: o.peer.certificatePem, privateKey: keyObjectOf(o.peer) },
    })),
  };
  const url = new URL('./endorsement-worker.ts', import.meta.url);
  const slots: Slot[] = [];
  const clientIds = new WeakMap<object, number>();
  let nextClientId = 0;
  let seq = 0;

  function retire(slot: Slot, reason: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    for (const p of slot.pending.values()) p.reject(new LedgerError('ENDORSEMENT', `an endorsement worker stopped (${reason}); submit the transaction again`));
    slot.pending.clear();
  }

  const workers: Worker[] = [];
  const startOne = (): Promise<void> => {
    const worker = new Worker(url, { workerData });
    workers.push(worker);
    const slot: Slot = { worker, clients: new Set(), pending: new Map(), outbox: [], alive: true };
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        worker.off('error', fail);
        worker.off('exit', exited);
        reject(err);
      };
      const exited = (code: number) => fail(new Error(`a worker exited with code ${code} while starting`));
      worker.once('error', fail);
      worker.once('exit', exited);
      worker.once('message', (m: FromWorker) => {
        if (m.type === 'failed') return fail(new Error(m.error));
        if (m.type !== 'ready') return fail(new Error('a worker did not say it was ready'));
        worker.off('error', fail);
        worker.off('exit', exited);
        worker.on('message', (msg: FromWorker) => {
          if (msg.type !== 'done') return;
          if (options.memo) for (const r of msg.signatures ?? []) options.memo.add(r);
          for (const done of msg.results) {
            const p = slot.pending.get(done.seq);
            if (!p) continue;
            slot.pending.delete(done.seq);
            if (done.outcome) p.resolve(unpackOutcome(done.outcome));
            else p.reject(new LedgerError('ENDORSEMENT', `endorsement failed: ${done.error ?? 'unknown error'}`));
          }
          if (slot.pending.size === 0) worker.unref();
        });
        worker.on('error', (err) => retire(slot, err.message));
        worker.on('exit', (code) => retire(slot, `exit code ${code}`));
        worker.unref();
        slots.push(slot);
        resolve();
      });
    });
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not up within ${options.startTimeoutMs ?? 60_000} ms`)), options.startTimeoutMs ?? 60_000);
    onAbort = () => reject(new Error('the ledger closed while they started'));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: options.size }, startOne)), stopped]);
  } catch (err) {
    for (const s of slots) s.alive = false;
    await Promise.all(workers.map((w) => w.terminate()));
    throw new LedgerError('UNAVAILABLE', `the endorsement workers could not start: ${(err as Error).message}; set endorsementWorkers: 0 to endorse on the main thread`, { cause: err });
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    stopped.catch(() => undefined);
  }

  function send(slot: Slot, message: ClientMessage | JobMessage): void {
    slot.outbox.push(message);
    if (slot.outbox.length > 1) return;
    setImmediate(() => {
      const jobs = slot.outbox;
      slot.outbox = [];
      if (slot.alive) slot.worker.postMessage({ type: 'jobs', jobs } satisfies ToWorker);
    });
  }

  return {
    get size() {
      return slots.length;
    },

    prepare(identity, job) {
      let slot: Slot | undefined;
      for (const s of slots) if (!slot || s.pending.size < slot.pending.size) slot = s;
      if (!slot) return undefined;
      const chosen = slot;
      let id = clientIds.get(identity);
      if (id === undefined) clientIds.set(identity, (id = nextClientId++));
      if (!chosen.clients.has(id)) {
        send(chosen, { type: 'client', id, mspId: identity.mspId, certificatePem: identity.certificatePem, key: keyObjectOf(identity) });
        chosen.clients.add(id);
      }
      const n = seq++;
      return new Promise<ClientOutcome>((resolve, reject) => {
        if (chosen.pending.size === 0) chosen.worker.ref();
        chosen.pending.set(n, { resolve, reject });
        send(chosen, { type: 'job', seq: n, clientId: id, job });
      });
    },
    async close() {
      const all = [...slots];
      for (const s of all) s.alive = false;
      slots.length = 0;
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}
