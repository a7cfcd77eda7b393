/**
 * The organisations of the embedded channel: per MSP a root CA and the identity of its endorsing peer
 * (a real X.509 certificate with OU=peer). When none are given they are created on first start under
 * `<dataDir>/certs/<mspId>/` and read back on every later start, so the peers' endorsements stay
 * verifiable across restarts. The CA key is kept too, so a development set-up can issue client
 * identities (with `ID` / `IDprovider` attributes) that the channel trusts: `issueClientIdentity`.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { createTestCa, createTestIdentity, type TestCa, type TestIdentity } from '../chaincode/testing/index.ts';
import type { LedgerIdentity } from './ledger.ts';
import type { MspDefinition } from './msp.ts';

export const DEFAULT_MSP_IDS = ['Org1MSP', 'Org2MSP'] as const;

export interface OrgConfig extends MspDefinition {
  /** The identity the org's (embedded) peer endorses with. */
  readonly peer: LedgerIdentity;
}

export interface DevOrg extends OrgConfig {
  readonly ca: TestCa;
}

function pkcs8Pem(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trim();
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
}

function caName(mspId: string): string {
  return `ca.${mspId.toLowerCase().replace(/msp$/, '')}.example.com`;
}

/** Loads the development organisations from `dir`, creating what is missing (CA, peer identity). */
export async function loadOrCreateOrgs(dir: string, mspIds: readonly string[] = DEFAULT_MSP_IDS): Promise<DevOrg[]> {
  const orgs: DevOrg[] = [];
  for (const mspId of mspIds) {
    const orgDir = join(dir, mspId);
    const file = (name: string) => join(orgDir, name);
    let ca: TestCa;
    if (existsSync(file('ca-cert.pem')) && existsSync(file('ca-key.pem'))) {
      const certificatePem = readFileSync(file('ca-cert.pem'), 'utf8');
      ca = { name: caName(mspId), certificatePem, certificate: new x509.X509Certificate(certificatePem), privateKey: await importKey(readFileSync(file('ca-key.pem'), 'utf8')) };
    } else {
      ca = await createTestCa(caName(mspId));
      mkdirSync(orgDir, { recursive: true });
      writeFileSync(file('ca-key.pem'), pkcs8Pem(await webcrypto.subtle.exportKey('pkcs8', ca.privateKey)), { mode: 0o600 });
      writeFileSync(file('ca-cert.pem'), ca.certificatePem);
    }
    let peer: LedgerIdentity;
    if (existsSync(file('peer-cert.pem')) && existsSync(file('peer-key.pem'))) {
      peer = { mspId, certificatePem: readFileSync(file('peer-cert.pem'), 'utf8'), privateKey: readFileSync(file('peer-key.pem'), 'utf8') };
    } else {
      const id = await createTestIdentity({ mspId, commonName: `peer0.${mspId.toLowerCase()}`, ou: 'peer', ca, defaultAttrs: false });
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
): Promise<TestIdentity & LedgerIdentity> {
  return createTestIdentity({ mspId: org.mspId, commonName, attrs, ca: org.ca });
}
