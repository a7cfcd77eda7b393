/**
 * The organisations of the embedded channel: per MSP a root CA and the identity of its endorsing peer
 * (a real X.509 certificate with OU=peer). When none are given they are created on first start under
 * `<dataDir>/certs/<mspId>/` and read back on every later start, so the peers' endorsements stay
 * verifiable across restarts. The CA key is kept too, so a development set-up can issue client
 * identities (with `ID` / `IDprovider` attributes) that the channel trusts: `issueClientIdentity`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFabricOrgCa, enrollFabricOrgIdentity, loadCredential, type Credential, type FabricOrgIdentity } from '../../certs/index.ts';
import type { LedgerIdentity } from '../ledger.ts';
import type { MspDefinition } from './msp.ts';

export const DEFAULT_MSP_IDS = ['Org1MSP', 'Org2MSP'] as const;

export interface OrgConfig extends MspDefinition {
  /** The identity the org's (embedded) peer endorses with. */
  readonly peer: LedgerIdentity;
}

export interface DevOrg extends OrgConfig {
  readonly ca: Credential;
}

function caName(mspId: string): string {
  return `ca.${mspId.toLowerCase().replace(/msp$/, '')}.example.com`;
}

export interface LoadOrgsOptions {
  /** Default: `DEFAULT_MSP_IDS`. */
  readonly mspIds?: readonly string[];
  /** How a missing org CA is made (by its name, `ca.org1.example.com`); default a new `createFabricOrgCa`. */
  readonly createCa?: (name: string) => Promise<Credential>;
}

/** Loads the development organisations from `dir`, creating what is missing (CA, peer identity). */
export async function loadOrCreateOrgs(dir: string, options: Readonly<LoadOrgsOptions> = {}): Promise<DevOrg[]> {
  const { mspIds = DEFAULT_MSP_IDS, createCa = createFabricOrgCa } = options;
  const orgs: DevOrg[] = [];
  for (const mspId of mspIds) {
    const orgDir = join(dir, mspId);
    const file = (name: string) => join(orgDir, name);
    let ca: Credential;
    if (existsSync(file('ca-cert.pem')) && existsSync(file('ca-key.pem'))) {
      ca = await loadCredential({ certificatePem: readFileSync(file('ca-cert.pem'), 'utf8'), privateKeyPem: readFileSync(file('ca-key.pem'), 'utf8') });
    } else {
      ca = await createCa(caName(mspId));
      mkdirSync(orgDir, { recursive: true });
      writeFileSync(file('ca-key.pem'), ca.privateKeyPem, { mode: 0o600 });
      writeFileSync(file('ca-cert.pem'), ca.certificatePem);
    }
    let peer: LedgerIdentity;
    if (existsSync(file('peer-cert.pem')) && existsSync(file('peer-key.pem'))) {
      peer = { mspId, certificatePem: readFileSync(file('peer-cert.pem'), 'utf8'), privateKey: readFileSync(file('peer-key.pem'), 'utf8') };
    } else {
      const id = await enrollFabricOrgIdentity({ mspId, commonName: `peer0.${mspId.toLowerCase()}`, ou: 'peer', ca, defaultAttrs: false });
      writeFileSync(file('peer-key.pem'), id.privateKeyPem, { mode: 0o600 });
      writeFileSync(file('peer-cert.pem'), id.certificatePem);
      peer = { mspId, certificatePem: id.certificatePem, privateKey: id.privateKeyPem };
    }
    orgs.push({ mspId, rootCertificates: [ca.certificatePem], peer, ca });
  }
  return orgs;
}

/** A client identity of `org` with Fabric CA attributes (e.g. `{ ID: 'utility:1234' }`). */
export async function issueClientIdentity(
  org: DevOrg,
  commonName: string,
  attrs: Readonly<Record<string, string>> = {},
): Promise<FabricOrgIdentity & LedgerIdentity> {
  return enrollFabricOrgIdentity({ mspId: org.mspId, commonName, attrs, ca: org.ca });
}
