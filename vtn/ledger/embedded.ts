/**
 * The VTN's embedded ledger (the default of `oadr-ledger vtn`): the ledger-bridge's Fabric-faithful
 * channel under `<dataDir>/ledger/`, the identities the VTN acts with — the system operator
 * (`ID=operator:vtn`), the default retailer of customers that name none (`ID=retailer:vtn`) and one
 * identity per retailer of the admin API (`ID=retailer:<retailerId>`, under `identities/retailers/`),
 * all Org1MSP client certificates issued by the channel's dev CA when first needed and kept under
 * `<dataDir>/ledger/identities/` — and the mapping's durable accumulator in
 * `<dataDir>/ledger-mapping.sqlite`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createEmbeddedLedger,
  issueClientIdentity,
  loadOrCreateOrgs,
  type DevOrg,
  type EmbeddedLedger,
  type Ledger,
  type LedgerIdentity,
} from '../../ledger-bridge/index.ts';
import { createLedgerMapping, createRetailerIdentities, type LedgerMapping, type MappingIdentities, type RetailerIdentities } from '../../ledger-bridge/index.ts';
import { createMappingStore, LEDGER_SUBDIR, MAPPING_STORE_FILE, type MappingStore } from '../../ledger-bridge/index.ts';
import { verifyLedgerInWorker, type VerifyReport } from '../../ledger-bridge/index.ts';

export const VTN_OPERATOR_ID = 'operator:vtn';
export const VTN_RETAILER_ID = 'retailer:vtn';

export interface VtnLedgerOptions {
  /** The VTN's data directory: the ledger goes to `<dataDir>/ledger`, the accumulator beside it. */
  readonly dataDir: string;
  /** The ledger's transaction clock (tests move it). Default the wall clock. */
  readonly clock?: () => Date;
  /** The mapping's clock in ms (day closing, future readings). Default from `clock`. */
  readonly now?: () => number;
  /** The operator's and the default retailer's ids (`ID` attributes). */
  readonly operatorId?: string;
  readonly retailerId?: string;
  /**
   * The retailer (a customer's `retailer` in the admin API) of a meter's customer, read at every
   * ledger step: its identity (`ID=retailer:<retailerId>`) acts for the meter. Undefined, or the
   * option absent: the default retailer.
   */
  readonly retailerOfMeter?: (meterId: string) => string | undefined;
  /** Verify with ECDSA even the signatures the ledger made itself (`EmbeddedLedgerOptions.verifyOwnSignatures`). */
  readonly verifyOwnSignatures?: boolean;
}

/** The VTN's ledger, embedded (here) or on Fabric (fabric.ts): the ledger, the mapping over it and its identities. */
export interface VtnLedger<L extends Ledger = Ledger> {
  readonly kind: 'embedded' | 'fabric';
  /** Where the ledger is, for logs and the start-up checks' messages. */
  readonly location: string;
  readonly ledger: L;
  readonly mapping: LedgerMapping;
  readonly identities: MappingIdentities;
  /** The admin API retailers' identities (embedded: issued on first use under `<dataDir>/ledger/identities/retailers/`). */
  readonly retailers: RetailerIdentities;
  readonly store: MappingStore;
  /** Re-checks the whole ledger (the embedded ledger only: it needs the block store). */
  verify?(): Promise<VerifyReport>;
  close(): Promise<void>;
}

export interface EmbeddedVtnLedger extends VtnLedger<EmbeddedLedger> {
  /**
   * Re-checks the ledger on disk while it runs (`verifyLedger`: hashes, signatures, world state), in a
   * worker thread; a call while one runs gets that one's report.
   */
  verify(): Promise<VerifyReport>;
}

async function loadOrIssue(dir: string, name: string, org: DevOrg, attrs: Readonly<Record<string, string>>): Promise<LedgerIdentity> {
  const certFile = join(dir, `${name}-cert.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  if (existsSync(certFile) && existsSync(keyFile)) {
    return { mspId: org.mspId, certificatePem: readFileSync(certFile, 'utf8'), privateKey: readFileSync(keyFile, 'utf8') };
  }
  const id = await issueClientIdentity(org, `vtn-${name}`, attrs);
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, id.privateKeyPem, { mode: 0o600 });
  writeFileSync(certFile, id.certificatePem);
  return { mspId: org.mspId, certificatePem: id.certificatePem, privateKey: id.privateKeyPem };
}

export async function openVtnLedger(options: Readonly<VtnLedgerOptions>): Promise<EmbeddedVtnLedger> {
  if (options.dataDir === ':memory:') throw new Error('the embedded ledger needs a data directory on disk; give --data-dir');
  const ledgerDir = join(options.dataDir, LEDGER_SUBDIR);
  const orgs = await loadOrCreateOrgs(join(ledgerDir, 'certs'));
  const org1 = orgs[0];
  if (org1 === undefined) throw new Error('the embedded ledger has no organisation');
  const idDir = join(ledgerDir, 'identities');
  const operatorId = options.operatorId ?? VTN_OPERATOR_ID;
  const retailerId = options.retailerId ?? VTN_RETAILER_ID;
  const retailers = createRetailerIdentities({
    dir: join(idDir, 'retailers'),
    mspId: org1.mspId,
    issue: (attrs, id) => issueClientIdentity(org1, `vtn-retailer-${id}`, attrs),
  });
  const identities: MappingIdentities = {
    operator: await loadOrIssue(idDir, 'operator', org1, { ID: operatorId }),
    retailer: await loadOrIssue(idDir, 'retailer', org1, { ID: retailerId }),
    retailerId,
    ...(options.retailerOfMeter === undefined ? {} : { retailerOf: retailers.forMeters(options.retailerOfMeter) }),
  };
  const ledger = await createEmbeddedLedger({
    dataDir: ledgerDir,
    orgs,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.verifyOwnSignatures === true ? { verifyOwnSignatures: true } : {}),
  });
  const store = createMappingStore({ path: join(options.dataDir, MAPPING_STORE_FILE) });
  const clock = options.clock;
  const now = options.now ?? (clock === undefined ? Date.now : () => clock().getTime());
  const mapping = createLedgerMapping({ ledger, identities, store, now });
  let verifying: Promise<VerifyReport> | undefined;
  return {
    kind: 'embedded',
    location: ledgerDir,
    ledger,
    mapping,
    identities,
    retailers,
    store,
    verify() {
      verifying ??= verifyLedgerInWorker(ledgerDir).finally(() => (verifying = undefined));
      return verifying;
    },
    async close() {
      store.close();
      await ledger.close();
    },
  };
}
