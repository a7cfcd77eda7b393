/**
 * The peer's side of one transaction simulation: what a Fabric 2.5 peer's chaincode handler and
 * `txSimulator` answer when the chaincode shim asks for state. It implements the `handleX` methods that
 * fabric-shim's own `ChaincodeStub` and iterators call on their handler, and answers with the same
 * values and protobuf messages the shim would decode from the peer, so everything on the chaincode side
 * (the stub, composite keys, iterators, ClientIdentity, fabric-contract-api dispatch) is the real code.
 *
 * Peer behaviour reproduced (Fabric 2.5 `core/ledger/kvledger/txmgmt/txmgr`, `core/chaincode`):
 * - reads see the committed state only; a transaction never reads its own writes;
 * - getState records (key, version|null) in the read set; range scans record a RangeQueryInfo with the
 *   keys and versions the peer pulled (end key = last pulled key until the iterator is exhausted);
 * - putState of an empty value is a delete (the Go peer sees a nil value); deleteState is a delete;
 * - range and history results travel in batches of 100 (`QueryResponse.has_more`), a non-paginated
 *   query stops silently after `totalQueryLimit` (core.yaml `ledger.state.totalQueryLimit`, 100000);
 * - paginated queries are refused after a write and writes are refused after a paginated query;
 * - rich queries are refused (LevelDB), private data and chaincode-to-chaincode calls are not supported;
 * - getStateValidationParameter reads committed key metadata and records a read of the key;
 * - after the transaction completed the simulator refuses every call.
 */

import { ledger, peer } from '@hyperledger/fabric-protos';
import { createRequire } from 'node:module';
import {
  sortKeys,
  type KVMetadataWrite,
  type KVRead,
  type KVWrite,
  type RangeQueryInfo,
  type ReadSet,
  type TimestampObject,
  type Version,
  type WriteSet,
} from '../../fabric/rwset.ts';
import type { HistoryEntry, StateEntry, StateSlot, WorldState } from './world-state.ts';

const require = createRequire(import.meta.url);

interface TimestampMessage {
  setSeconds(seconds: number): void;
  setNanos(nanos: number): void;
}
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: new () => TimestampMessage;
};

interface ShimIteratorClasses {
  StateQueryIterator: new (handler: unknown, channelId: string, txId: string, response: unknown) => unknown;
  HistoryQueryIterator: new (handler: unknown, channelId: string, txId: string, response: unknown) => unknown;
}
const { StateQueryIterator, HistoryQueryIterator } = require('fabric-shim') as ShimIteratorClasses;

/** Fabric's chaincode handler sends query results in batches of this size (QueryResponseGenerator). */
export const QUERY_BATCH_SIZE = 100;
/** core.yaml `ledger.state.totalQueryLimit`: most records a non-paginated query returns. */
export const DEFAULT_TOTAL_QUERY_LIMIT = 100_000;
const VALIDATION_PARAMETER = 'VALIDATION_PARAMETER';

export interface TxSimulatorOptions {
  readonly world: WorldState;
  readonly txId: string;
  readonly channelId: string;
  /** The chaincode name, used as the namespace of query results. */
  readonly namespace: string;
  readonly totalQueryLimit?: number;
}

export interface SimulationResults {
  readonly readSet: ReadSet;
  readonly writeSet: WriteSet;
}

/** The handler object handed to fabric-shim's ChaincodeStub, plus the simulation results. */
export interface TxSimulator {
  handleGetState(collection: string, key: string): Promise<Buffer>;
  handlePutState(collection: string, key: string, value: Uint8Array): Promise<Buffer>;
  handleDeleteState(collection: string, key: string): Promise<Buffer>;
  handlePurgeState(collection: string, key: string): Promise<never>;
  handlePutStateMetadata(collection: string, key: string, metakey: string, value: Uint8Array): Promise<Buffer>;
  handleGetStateMetadata(collection: string, key: string): Promise<Record<string, Uint8Array>>;
  handleGetPrivateDataHash(collection: string, key: string): Promise<never>;
  handleGetStateByRange(
    collection: string,
    startKey: string,
    endKey: string,
    channelId: string,
    txId: string,
    metadata?: Uint8Array,
  ): Promise<{ iterator: unknown; metadata?: { bookmark: string; fetchedRecordsCount: number } }>;
  handleQueryStateNext(id: string): Promise<unknown>;
  handleQueryStateClose(id: string): Promise<unknown>;
  handleGetQueryResult(): Promise<never>;
  handleGetHistoryForKey(key: string): Promise<unknown>;
  handleInvokeChaincode(chaincodeName: string): Promise<never>;
  /** Ends the simulation: later calls fail, open iterators are closed. */
  done(): void;
  results(): SimulationResults;
}

interface MutableRangeInfo {
  startKey: string;
  endKey: string;
  itrExhausted: boolean;
  reads: KVRead[];
}

interface OpenQuery {
  readonly pull: () => Uint8Array | undefined;
  readonly paginated: boolean;
  readonly limit: number;
  readonly bookmark: () => string;
  /** Releases the world-state scan (lets it insert keys in place again). */
  readonly close?: () => void;
  batch: Uint8Array[];
  returned: number;
}

function queryResultBytes(bytes: Uint8Array): peer.QueryResultBytes {
  const result = new peer.QueryResultBytes();
  result.setResultbytes(bytes);
  return result;
}

function encodeTimestamp(t: TimestampObject): TimestampMessage {
  const ts = new Timestamp();
  ts.setSeconds(t.seconds);
  ts.setNanos(t.nanos);
  return ts;
}

export function createTxSimulator(options: Readonly<TxSimulatorOptions>): TxSimulator {
  const { world, txId, channelId, namespace } = options;
  const totalQueryLimit = options.totalQueryLimit ?? DEFAULT_TOTAL_QUERY_LIMIT;
  /**
   * Each key read, at its index in `readList` (the read as recorded; a later read of the key
   * replaces it) and in `readSlots` (the key's world-state slot, which validation uses).
   */
  const reads = new Map<string, number>();
  const readList: KVRead[] = [];
  const readSlots: (StateSlot | undefined)[] = [];
  const slotOf = world.slot?.bind(world);
  const writes = new Map<string, KVWrite>();
  const metadataWrites = new Map<string, KVMetadataWrite>();
  const rangeInfos: MutableRangeInfo[] = [];
  const queries = new Map<string, OpenQuery>();
  let queryCounter = 0;
  let finished = false;
  let writePerformed = false;
  let paginatedQueriesPerformed = false;

  function checkDone(): void {
    if (finished) throw new Error(`txid [${txId}]: transaction simulation is complete; the stub cannot be used any more`);
  }

  function checkPublic(collection: string): void {
    if (collection !== '') {
      throw new Error(`private data (collection ${collection}) is not supported by the test ledger`);
    }
  }

  function checkWritePrecondition(): void {
    checkDone();
    if (paginatedQueriesPerformed) {
      throw new Error(
        `txid [${txId}]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed`,
      );
    }
    writePerformed = true;
  }

  function versionOf(entry: StateEntry | undefined): Version | null {
    return entry ? entry.version : null;
  }

  function recordRead(key: string, version: Version | null, slot: StateSlot | undefined): void {
    const at = reads.get(key);
    if (at === undefined) {
      reads.set(key, readList.length);
      readList.push({ key, version });
      readSlots.push(slot);
    } else {
      readList[at] = { key, version };
      readSlots[at] = slot;
    }
  }

  function respond(id: string, query: OpenQuery): peer.QueryResponse {
    // Fabric's QueryResponseGenerator.BuildQueryResponse, step for step.
    for (;;) {
      if (query.returned >= query.limit) return finalResponse(id, query);
      const next = query.pull();
      if (next === undefined) return finalResponse(id, query);
      if (!query.paginated && query.batch.length === QUERY_BATCH_SIZE) {
        const batch = query.batch;
        query.batch = [next];
        query.returned++;
        const response = new peer.QueryResponse();
        response.setResultsList(batch.map(queryResultBytes));
        response.setHasMore(true);
        response.setId(id);
        return response;
      }
      query.batch.push(next);
      query.returned++;
    }
  }

  function finalResponse(id: string, query: OpenQuery): peer.QueryResponse {
    const response = new peer.QueryResponse();
    response.setResultsList(query.batch.map(queryResultBytes));
    query.batch = [];
    response.setHasMore(false);
    response.setId(id);
    if (query.paginated) {
      const metadata = new peer.QueryResponseMetadata();
      metadata.setBookmark(query.bookmark());
      metadata.setFetchedRecordsCount(query.returned);
      response.setMetadata(metadata.serializeBinary());
    }
    queries.delete(id);
    query.close?.();
    return response;
  }

  function openRangeQuery(startKey: string, endKey: string, pageSize: number | undefined): OpenQuery {
    const info: MutableRangeInfo = { startKey, endKey, itrExhausted: false, reads: [] };
    rangeInfos.push(info);
    const iterator = world.range(startKey, endKey);
    let peeked: [string, StateEntry] | undefined;
    const nextEntry = (): [string, StateEntry] | undefined => {
      if (peeked) {
        const p = peeked;
        peeked = undefined;
        return p;
      }
      const r = iterator.next();
      return r.done ? undefined : r.value;
    };
    return {
      paginated: pageSize !== undefined,
      limit: pageSize ?? totalQueryLimit,
      batch: [],
      returned: 0,
      pull() {
        const entry = nextEntry();
        if (!entry) {
          info.itrExhausted = true;
          info.endKey = endKey;
          return undefined;
        }
        const [key, state] = entry;
        info.reads.push({ key, version: state.version });
        info.endKey = key;
        const kv = new ledger.queryresult.KV();
        kv.setNamespace(namespace);
        kv.setKey(key);
        kv.setValue(state.value);
        return kv.serializeBinary();
      },
      bookmark() {
        peeked = nextEntry();
        return peeked ? peeked[0] : '';
      },
      close() {
        iterator.return?.();
      },
    };
  }

  function register(query: OpenQuery): string {
    const id = `${txId}.q${++queryCounter}`;
    queries.set(id, query);
    return id;
  }

  const handler: TxSimulator = {
    async handleGetState(collection, key) {
      checkDone();
      checkPublic(collection);
      const slot = slotOf?.(key);
      const entry = slotOf ? slot?.entry : world.get(key);
      recordRead(key, versionOf(entry), slot);
      return entry ? Buffer.from(entry.value) : Buffer.alloc(0);
    },

    async handlePutState(collection, key, value) {
      checkPublic(collection);
      checkWritePrecondition();
      const bytes = Buffer.from(value);
      // The Go peer receives an empty bytes field as nil, and a nil value is a delete (rwset newKVWrite).
      writes.set(key, bytes.length === 0 ? { key, isDelete: true, value: null } : { key, isDelete: false, value: bytes });
      return Buffer.alloc(0);
    },

    async handleDeleteState(collection, key) {
      checkPublic(collection);
      checkWritePrecondition();
      writes.set(key, { key, isDelete: true, value: null });
      return Buffer.alloc(0);
    },

    async handlePurgeState(collection) {
      checkDone();
      checkPublic(collection === '' ? '(none)' : collection);
      throw new Error('purgePrivateData is not supported by the test ledger');
    },

    async handlePutStateMetadata(collection, key, metakey, value) {
      checkPublic(collection);
      checkWritePrecondition();
      const bytes = Buffer.from(value);
      // The peer's handler writes the one metakey it was given as the key's whole metadata map.
      metadataWrites.set(key, { key, entries: [{ name: metakey, value: bytes }] });
      return Buffer.alloc(0);
    },

    async handleGetStateMetadata(collection, key) {
      checkDone();
      checkPublic(collection);
      const slot = slotOf?.(key);
      const entry = slotOf ? slot?.entry : world.get(key);
      recordRead(key, versionOf(entry), slot);
      const out: Record<string, Uint8Array> = {};
      if (entry) for (const [name, value] of entry.metadata) out[name] = new Uint8Array(value);
      return out;
    },

    async handleGetPrivateDataHash(collection) {
      checkDone();
      checkPublic(collection === '' ? '(none)' : collection);
      throw new Error('private data is not supported by the test ledger');
    },

    async handleGetStateByRange(collection, startKey, endKey, _channelId, _txId, metadata) {
      checkDone();
      checkPublic(collection);
      let pageSize: number | undefined;
      let start = startKey;
      if (metadata && metadata.length > 0) {
        if (writePerformed) {
          throw new Error(
            `txid [${txId}]: unsuppored transaction. Paginated queries are supported only in a read-only transaction`,
          );
        }
        paginatedQueriesPerformed = true;
        const qm = peer.QueryMetadata.deserializeBinary(metadata);
        pageSize = qm.getPagesize();
        if (qm.getBookmark() !== '') start = qm.getBookmark();
      }
      const query = openRangeQuery(start, endKey, pageSize);
      const response = respond(register(query), query);
      const iterator = new StateQueryIterator(handler, channelId, txId, response);
      if (pageSize === undefined) return { iterator };
      const md = peer.QueryResponseMetadata.deserializeBinary(response.getMetadata_asU8());
      return { iterator, metadata: { bookmark: md.getBookmark(), fetchedRecordsCount: md.getFetchedRecordsCount() } };
    },

    async handleQueryStateNext(id) {
      checkDone();
      const query = queries.get(id);
      if (!query) throw new Error(`query iterator not found: ${id}`);
      return respond(id, query);
    },

    async handleQueryStateClose(id) {
      checkDone();
      queries.get(id)?.close?.();
      queries.delete(id);
      const response = new peer.QueryResponse();
      response.setHasMore(false);
      response.setId(id);
      return response;
    },

    async handleGetQueryResult() {
      checkDone();
      throw new Error('ExecuteQuery not supported for leveldb');
    },

    async handleGetHistoryForKey(key) {
      checkDone();
      // Fabric ≥ 2.0: newest first (block height, then transaction number, descending).
      const history: readonly HistoryEntry[] = world.history(key);
      let index = history.length;
      const query: OpenQuery = {
        paginated: false,
        limit: totalQueryLimit,
        batch: [],
        returned: 0,
        pull() {
          if (index === 0) return undefined;
          const h = history[--index] as HistoryEntry;
          const km = new ledger.queryresult.KeyModification();
          km.setTxId(h.txId);
          km.setValue(h.value);
          km.setTimestamp(encodeTimestamp(h.timestamp) as never);
          km.setIsDelete(h.isDelete);
          return km.serializeBinary();
        },
        bookmark: () => '',
      };
      const response = respond(register(query), query);
      return new HistoryQueryIterator(handler, channelId, txId, response);
    },

    async handleInvokeChaincode(chaincodeName) {
      checkDone();
      throw new Error(`invokeChaincode(${chaincodeName}) is not supported by the test ledger`);
    },

    done() {
      finished = true;
      for (const query of queries.values()) query.close?.();
      queries.clear();
    },

    results() {
      const sortedKeys = sortKeys([...reads.keys()]);
      const sortedReads = new Array<KVRead>(sortedKeys.length);
      const slots = new Array<StateSlot | undefined>(sortedKeys.length);
      for (let i = 0; i < sortedKeys.length; i++) {
        const at = reads.get(sortedKeys[i] as string) as number;
        sortedReads[i] = readList[at] as KVRead;
        slots[i] = readSlots[at];
      }
      const sortedWrites = sortKeys([...writes.keys()]).map((key) => writes.get(key) as KVWrite);
      const sortedMetadata = sortKeys([...metadataWrites.keys()]).map((key) => metadataWrites.get(key) as KVMetadataWrite);
      // Fabric keeps one RangeQueryInfo per (start, end, exhausted), in the order first seen.
      const seen = new Set<string>();
      const rangeQueries: RangeQueryInfo[] = [];
      for (const info of rangeInfos) {
        const id = JSON.stringify([info.startKey, info.endKey, info.itrExhausted]);
        if (seen.has(id)) continue;
        seen.add(id);
        rangeQueries.push({ ...info, reads: [...info.reads] });
      }
      const readSet: ReadSet = { reads: sortedReads, rangeQueries };
      world.attachReadSlots?.(readSet, slots);
      return {
        readSet,
        writeSet: { writes: sortedWrites, metadataWrites: sortedMetadata },
      };
    },
  };
  return handler;
}
