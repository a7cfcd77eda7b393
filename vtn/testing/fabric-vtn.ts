/**
 * For tests: the VTN's ledger on "Fabric" — the Gateway gRPC service (`ledger serve`, in process,
 * TLS on loopback) in front of an embedded ledger, reached through a fabric-samples-shaped connection
 * profile and MSP folders written into the test's folder, exactly as `--ledger fabric` reads them: the
 * VTN's own MSP folder (the operator, `ID=operator:dso`) and the default retailer's (`retailers/vtn`,
 * `ID=retailer:vtn`), both Org1MSP identities from the served ledger's CA.
 */
import { KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueClientIdentity, loadOrCreateOrgs, type DevOrg, type LedgerIdentity } from '../../ledger-bridge/index.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';
import { startTestGateway, TEST_PEER_HOSTNAME, type TestGateway } from '../../ledger-bridge/testing/gateway-server.ts';
import { startGatewayProxy, type GatewayProxy } from '../../ledger-bridge/testing/gateway-proxy.ts';
import { openFabricVtnLedger, FABRIC_DEFAULT_RETAILER, type FabricVtnLedger, type FabricVtnLedgerOptions } from '../ledger/fabric.ts';

export interface FabricVtnRig {
  readonly gateway: TestGateway;
  /** With `proxy`: the fault-injecting proxy the profile names instead of the service (plaintext). */
  readonly proxy: GatewayProxy | undefined;
  /** The connection profile, the VTN's MSP folder and the retailers' folder. */
  readonly profile: string;
  readonly identity: string;
  readonly retailers: string;
  /** The VTN's Fabric ledger over the rig (options as `--ledger fabric` passes them). */
  open(options: Readonly<Omit<FabricVtnLedgerOptions, 'profile' | 'identity'>>): Promise<FabricVtnLedger>;
}

const pemOf = (key: LedgerIdentity['privateKey']): string => (typeof key === 'string' ? key : KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString());

/** Writes an MSP folder as `fabric-ca-client enroll -M` does (signcerts/cert.pem, keystore/priv_sk). */
export function writeMspFolder(dir: string, identity: LedgerIdentity): void {
  mkdirSync(join(dir, 'signcerts'), { recursive: true });
  mkdirSync(join(dir, 'keystore'), { recursive: true });
  writeFileSync(join(dir, 'signcerts', 'cert.pem'), identity.certificatePem);
  writeFileSync(join(dir, 'keystore', 'priv_sk'), pemOf(identity.privateKey), { mode: 0o600 });
}

/** A fabric-samples-shaped connection profile (connection-org1.json) for a gateway on `address`; the TLS CA inline (`pem`) or as a file (`path`). */
export function connectionProfile(address: string, tlsCa: { readonly pem: string } | { readonly path: string }, channel: string, hostname = TEST_PEER_HOSTNAME): Record<string, unknown> {
  return {
    name: 'test-network-org1',
    version: '1.0.0',
    client: { organization: 'Org1', connection: { timeout: { peer: { endorser: '300' } } } },
    organizations: { Org1: { mspid: 'Org1MSP', peers: [TEST_PEER_HOSTNAME], certificateAuthorities: ['ca.org1.example.com'] } },
    peers: { [TEST_PEER_HOSTNAME]: { url: `grpcs://${address}`, tlsCACerts: tlsCa, grpcOptions: { 'ssl-target-name-override': hostname, hostnameOverride: hostname } } },
    channels: { [channel]: { peers: { [TEST_PEER_HOSTNAME]: {} } } },
  };
}

export interface FabricVtnFiles {
  readonly profile: string;
  readonly identity: string;
  readonly retailers: string;
}

/**
 * Writes under `root` what an operator gives `--ledger fabric`: the profile, the VTN's MSP folder
 * (`operator`) and the default retailer's (`retailers/vtn`, issued by `org1` with `ID=retailer:vtn`).
 */
export async function writeFabricVtnFiles(root: string, o: { readonly profile: Record<string, unknown>; readonly operator: LedgerIdentity; readonly org1: DevOrg }): Promise<FabricVtnFiles> {
  const profile = join(root, 'connection-org1.json');
  mkdirSync(root, { recursive: true });
  writeFileSync(profile, JSON.stringify(o.profile, null, 2));
  const identity = join(root, 'vtn-msp');
  writeMspFolder(identity, o.operator);
  const retailers = join(root, 'retailers');
  writeMspFolder(join(retailers, FABRIC_DEFAULT_RETAILER), await issueClientIdentity(o.org1, 'vtn-retailer', { ID: `retailer:${FABRIC_DEFAULT_RETAILER}` }));
  return { profile, identity, retailers };
}

/**
 * Starts the served ledger (its clock from `now`) and writes the profile and identities under `dir`;
 * with `proxy`, the profile names a fault-injecting proxy in front of the service (`grpc://`).
 */
export async function startFabricVtnRig(t: { after(fn: () => unknown): void }, dir: string, now: () => number, options: { readonly proxy?: boolean } = {}): Promise<FabricVtnRig> {
  const gateway = await startTestGateway({ clock: () => new Date(now()) });
  t.after(() => gateway.close());
  const proxy = options.proxy === true ? await startGatewayProxy({ target: gateway.server.address, targetTls: { caPem: gateway.tlsCaPem, hostname: TEST_PEER_HOSTNAME } }) : undefined;
  if (proxy !== undefined) t.after(() => proxy.close());
  const channel = gateway.embedded.ledger.channel;
  const profileDoc =
    proxy === undefined
      ? connectionProfile(gateway.server.address, { pem: gateway.tlsCaPem }, channel)
      : { ...connectionProfile(gateway.server.address, { pem: gateway.tlsCaPem }, channel), peers: { [TEST_PEER_HOSTNAME]: { url: `grpc://${proxy.address}` } } };
  const [org1] = await loadOrCreateOrgs(join(gateway.embedded.dataDir, 'certs'), { createCa: createTestCa });
  if (org1 === undefined) throw new Error('the served ledger has no organisation');
  const { profile, identity, retailers } = await writeFabricVtnFiles(join(dir, 'fabric'), {
    profile: profileDoc,
    operator: gateway.embedded.identities.operator,
    org1,
  });
  return {
    gateway,
    proxy,
    profile,
    identity,
    retailers,
    async open(options) {
      const ledger = await openFabricVtnLedger({ retailers, ...options, profile, identity });
      t.after(() => ledger.close());
      return ledger;
    },
  };
}
