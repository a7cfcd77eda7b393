/**
 * The directory layout of a development PKI made by `certs init DIR` (documented in docs/certs.md).
 * OpenADR material is grouped by key profile; Fabric material follows cryptogen's
 * `peerOrganizations/<domain>/` tree (what fabric-samples' test-network and Fabric's tools expect),
 * with Fabric CA's file names inside each MSP (`signcerts/cert.pem`, `keystore/priv_sk`).
 *
 *     DIR/pki.json                                  manifest, written last: its presence means "initialised"
 *     DIR/openadr/ca-bundle.pem                     both OpenADR roots: the TLS trust anchors of VTN and VENs
 *     DIR/openadr/{rsa,ecc}/root-ca/{cert,key}.pem
 *     DIR/openadr/{rsa,ecc}/intermediate-ca/{cert,key}.pem
 *     DIR/openadr/vtn/<name>/{cert,chain,key}.pem + fingerprint.txt
 *     DIR/openadr/ven/<name>/{cert,chain,key}.pem + fingerprint.txt
 *     DIR/fabric/peerOrganizations/<domain>/ca/{ca.<domain>-cert.pem,priv_sk}
 *     DIR/fabric/peerOrganizations/<domain>/tlsca/{tlsca.<domain>-cert.pem,priv_sk}
 *     DIR/fabric/peerOrganizations/<domain>/msp/                     the org's verifying MSP
 *     DIR/fabric/peerOrganizations/<domain>/peers/<peer>.<domain>/{msp,tls}/
 *     DIR/fabric/peerOrganizations/<domain>/users/<name>@<domain>/msp/
 */
import { join } from 'node:path';
import type { KeyProfile } from './keys.ts';

export const PKI_MANIFEST_FILE = 'pki.json';
export const PKI_FORMAT = 'oadr-ledger-dev-pki';
/** The top-level entries `certs init` owns (and `--force` replaces); nothing else in DIR is touched. */
export const PKI_TOP_LEVEL = ['openadr', 'fabric', PKI_MANIFEST_FILE] as const;

export const CERT_FILE = 'cert.pem';
export const CHAIN_FILE = 'chain.pem';
export const KEY_FILE = 'key.pem';
export const FINGERPRINT_FILE = 'fingerprint.txt';

export type OpenadrRole = 'vtn' | 'ven';

export const FABRIC_ORG_NAMES = ['Org1', 'Org2'] as const;
export type FabricOrgName = (typeof FABRIC_ORG_NAMES)[number];

export interface FabricOrg {
  readonly name: FabricOrgName;
  readonly mspId: string;
  readonly domain: string;
}

/** The two orgs of the thesis network: Org1 (system operator, retailer), Org2 (retailer, customers). */
export const FABRIC_ORGS: Readonly<Record<FabricOrgName, FabricOrg>> = {
  Org1: { name: 'Org1', mspId: 'Org1MSP', domain: 'org1.example.com' },
  Org2: { name: 'Org2', mspId: 'Org2MSP', domain: 'org2.example.com' },
};

export const pkiLayout = {
  manifest: (root: string) => join(root, PKI_MANIFEST_FILE),
  caBundle: (root: string) => join(root, 'openadr', 'ca-bundle.pem'),
  openadrRootCa: (root: string, profile: KeyProfile) => join(root, 'openadr', profile, 'root-ca'),
  openadrIntermediateCa: (root: string, profile: KeyProfile) => join(root, 'openadr', profile, 'intermediate-ca'),
  openadrRoleDir: (root: string, role: OpenadrRole) => join(root, 'openadr', role),
  openadrIdentity: (root: string, role: OpenadrRole, name: string) => join(root, 'openadr', role, name),
  fabricOrg: (root: string, org: FabricOrg) => join(root, 'fabric', 'peerOrganizations', org.domain),
  fabricCa: (root: string, org: FabricOrg) => join(root, 'fabric', 'peerOrganizations', org.domain, 'ca'),
  fabricTlsCa: (root: string, org: FabricOrg) => join(root, 'fabric', 'peerOrganizations', org.domain, 'tlsca'),
  fabricOrgMsp: (root: string, org: FabricOrg) => join(root, 'fabric', 'peerOrganizations', org.domain, 'msp'),
  fabricPeer: (root: string, org: FabricOrg, peer: string) => join(root, 'fabric', 'peerOrganizations', org.domain, 'peers', `${peer}.${org.domain}`),
  fabricUser: (root: string, org: FabricOrg, user: string) => join(root, 'fabric', 'peerOrganizations', org.domain, 'users', `${user}@${org.domain}`),
  fabricCaCertFile: (org: FabricOrg, tls: boolean) => `${tls ? 'tlsca' : 'ca'}.${org.domain}-cert.pem`,
} as const;
