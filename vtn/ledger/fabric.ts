/**
 * The VTN on a Hyperledger Fabric network (`oadr-ledger vtn --ledger fabric`): the Fabric connector
 * to the gateway peer of a common connection profile, acting with identities the network's CA issued:
 *
 * - the VTN's own identity (`--fabric-identity`, an MSP folder): the system operator (certificate
 *   attribute `ID=operator:…`): events, baselines, opt answers, settlement, program parameters;
 * - one identity per retailer (`--fabric-retailers`, a folder per retailer id holding its MSP folder,
 *   or `cert.pem` + `key.pem`; attribute `ID=retailer:<retailerId>`), as on the embedded ledger, and
 *   the default retailer of customers that name none (folder `vtn` unless configured: `ID=retailer:vtn`).
 *   Nothing is issued here: a missing identity is `NO_IDENTITY` with the path to fill.
 *
 * The mapping's durable accumulator stays in `<dataDir>/ledger-mapping.sqlite`, or, in a cluster (a
 * VTN store on PostgreSQL), in that database beside the VTN store's tables (`mappingStore`), shared
 * by every process. Retries of
 * endorsement mismatches and read conflicts are logged and counted for `/metrics`.
 */
import { join } from 'node:path';
import {
  createFabricLedger,
  createLedgerMapping,
  createMappingStore,
  createPgMappingStore,
  createRetailerIdentities,
  MAPPING_STORE_FILE,
  readConnectionProfile,
  readMspFolder,
  type FabricLedger,
  type FabricRetry,
  type FabricRetryOptions,
  type MappingIdentities,
  type PgMappingStoreOptions,
} from '../../ledger-bridge/index.ts';
import { silentLogger, type Logger } from '../operations/logger.ts';
import type { LedgerRetryCounts } from './port.ts';
import type { VtnLedger } from './embedded.ts';

/** The folder of the default retailer (customers that name no retailer) under the retailers' directory. */
export const FABRIC_DEFAULT_RETAILER = 'vtn';

export interface FabricVtnLedgerOptions {
  /** The VTN's data directory (the mapping store and the event checkpoint). */
  readonly dataDir: string;
  /** The common connection profile (JSON or YAML). */
  readonly profile: string;
  /** The VTN's own MSP folder: the system operator. */
  readonly identity: string;
  /** One folder per retailer id. Default `<dataDir>/fabric-retailers`. */
  readonly retailers?: string;
  /** The retailer folder of customers that name none (default `vtn`). */
  readonly defaultRetailer?: string;
  /** Default: the profile's first channel, else `mychannel`. */
  readonly channel?: string;
  /** Default `oadr-dr`. */
  readonly chaincode?: string;
  /** Wait for each transaction's block on every other organisation's peer of the profile before going on. */
  readonly waitForCommit?: boolean;
  readonly retry?: Partial<FabricRetryOptions>;
  /** Transaction timestamps (replays and tests); default the client library's wall clock. */
  readonly clock?: () => Date;
  /** The mapping's clock in ms; default from `clock`, else Date.now. */
  readonly now?: () => number;
  /** The retailer of a meter's customer (undefined: the default retailer). */
  readonly retailerOfMeter?: (meterId: string) => string | undefined;
  readonly log?: Logger;
  /** The mapping store on PostgreSQL (a cluster: the VTN store's database); absent: SQLite in `dataDir`. */
  readonly mappingStore?: PgMappingStoreOptions;
}

export interface FabricVtnLedger extends VtnLedger<FabricLedger> {
  readonly retries: LedgerRetryCounts;
  /** Why `verify` is not offered (FABRIC_NO_VERIFY). */
  readonly noVerify: string;
}

export const DEFAULT_FABRIC_RETAILERS_DIR = 'fabric-retailers';

/** What `POST /ledger/verify` answers on Fabric (501): the peers validate their blocks, the VTN holds none. */
export const FABRIC_NO_VERIFY =
  "the VTN re-checks only the embedded ledger's block store; on Fabric each peer validates every block it commits and the VTN holds no blocks. " +
  "Check the peers instead: 'peer channel getinfo -c <channel>' on each organisation's peer (the same height and current block hash), and their logs for invalid blocks";

export async function openFabricVtnLedger(options: Readonly<FabricVtnLedgerOptions>): Promise<FabricVtnLedger> {
  if (options.dataDir === ':memory:') throw new Error('the VTN on Fabric keeps its mapping store on disk; give --data-dir');
  const log = (options.log ?? silentLogger).child({ component: 'vtn.ledger' });
  const profile = readConnectionProfile(options.profile);
  const operator = readMspFolder(options.identity, profile.mspId);
  const retailersDir = options.retailers ?? join(options.dataDir, DEFAULT_FABRIC_RETAILERS_DIR);
  const retailers = createRetailerIdentities({ dir: retailersDir, mspId: profile.mspId });
  const defaultRetailer = await retailers.get(options.defaultRetailer ?? FABRIC_DEFAULT_RETAILER);
  const identities: MappingIdentities = {
    operator,
    retailer: defaultRetailer.identity,
    retailerId: defaultRetailer.retailerId,
    ...(options.retailerOfMeter === undefined ? {} : { retailerOf: retailers.forMeters(options.retailerOfMeter) }),
  };
  const counts = new Map<string, { fn: string; reason: string; count: number }>();
  const onRetry = (r: FabricRetry): void => {
    const key = `${r.fn}\u0000${r.reason}`;
    const c = counts.get(key) ?? { fn: r.fn, reason: r.reason, count: 0 };
    c.count++;
    counts.set(key, c);
    log.warn({ fn: r.fn, reason: r.reason, attempt: r.attempt, delayMs: r.delayMs, txId: r.txId, err: r.error }, `${r.fn}: ${r.reason === 'ENDORSEMENT_MISMATCH' ? 'the peers endorsed differently (one had not committed the last block yet)' : 'a read conflict at commit'}; submitted again`);
  };
  const peer = profile.gatewayPeer;
  const others = options.waitForCommit === true ? profile.peers.filter((p) => p.organization !== profile.organization) : [];
  if (options.waitForCommit === true && others.length === 0) {
    log.warn({ profile: profile.file }, 'waitForCommit: the connection profile lists no peer of another organisation; only the gateway peer\'s commit is awaited');
  }
  const channel = options.channel ?? profile.channel ?? 'mychannel';
  const ledger = await createFabricLedger({
    peerEndpoint: peer.endpoint,
    ...(peer.plaintext ? { plaintext: true } : {}),
    ...(peer.tlsRootCertificate === undefined ? {} : { tlsRootCertificate: peer.tlsRootCertificate }),
    ...(peer.hostnameOverride === undefined ? {} : { hostnameOverride: peer.hostnameOverride }),
    identity: operator,
    channel,
    chaincodeName: options.chaincode ?? 'oadr-dr',
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    onRetry,
    ...(others.length === 0 ? {} : { commitPeers: others }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const store = options.mappingStore === undefined ? createMappingStore({ path: join(options.dataDir, MAPPING_STORE_FILE) }) : createPgMappingStore(options.mappingStore);
  const clock = options.clock;
  const now = options.now ?? (clock === undefined ? Date.now : () => clock().getTime());
  const mapping = createLedgerMapping({ ledger, identities, store, now });
  return {
    kind: 'fabric',
    location: `channel ${channel} through ${peer.name} (${peer.endpoint}, ${profile.file})`,
    ledger,
    mapping,
    identities,
    retailers,
    store,
    retries: { counts: () => [...counts.values()].map((c) => ({ ...c })) },
    noVerify: FABRIC_NO_VERIFY,
    async close() {
      store.close();
      await ledger.close();
    },
  };
}
