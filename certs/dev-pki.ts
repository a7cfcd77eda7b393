/**
 * The development PKI behind `certs init` and `certs issue`: one tree (see layout.ts) holding the
 * OpenADR 2.0b TLS hierarchy in both profiles and the Fabric MSP material of Org1 and Org2.
 *
 * `initPki` is idempotent: an initialised directory (one with `pki.json`) is left untouched and
 * described; `force` replaces the entries the PKI owns (`openadr/`, `fabric/`, `pki.json`) and
 * nothing else. `pki.json` is written last, so an interrupted init is detected (PKI_INCOMPLETE).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { certificateFingerprint } from '../oadr/index.ts';
import { CertsError } from './errors.ts';
import { ATTR_ID, ATTR_ID_PROVIDER } from './fabric-attributes.ts';
import { ensureDir, writeKeyFile, writePublicFile } from './files.ts';
import type { KeyProfile } from './keys.ts';
import {
  CERT_FILE,
  CHAIN_FILE,
  FABRIC_ORGS,
  FINGERPRINT_FILE,
  KEY_FILE,
  PKI_FORMAT,
  PKI_TOP_LEVEL,
  pkiLayout,
  type FabricOrg,
  type FabricOrgName,
  type OpenadrRole,
} from './layout.ts';
import { MSP_KEY_FILE, writeMsp } from './msp.ts';
import {
  chainPem,
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
  issueFabricIdentity,
  issueServerCertificate,
  loadCredential,
  type Credential,
  type FabricNodeOu,
  type ValidityOptions,
} from './pki.ts';

export const IDENTITY_KINDS = ['ven', 'vtn', 'fabric-client', 'fabric-peer', 'fabric-admin'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

/** The thesis' retailer and meters (listing 5.1), as the reference scenario of chaincode/ uses them. */
export const DEV_RETAILER_ID = 'utility:1234';
export const DEV_CUSTOMERS = [
  { name: 'customer_1', meter: 'smartmeter:20360162' },
  { name: 'customer_2', meter: 'smartmeter:20360163' },
] as const;

export interface InitPkiOptions extends Pick<ValidityOptions, 'now'> {
  readonly dir: string;
  /** Replace an existing PKI (its `openadr/`, `fabric/` and `pki.json` only). */
  readonly force?: boolean;
  /** Validity of the leaf certificates in days; default 730. CAs get 3650. */
  readonly days?: number;
}

export interface IssueIdentityOptions extends ValidityOptions {
  readonly dir: string;
  readonly kind: IdentityKind;
  /** VEN / VTN name (folder and CN), Fabric enrollment id, or peer host name (`peer1`). */
  readonly name: string;
  /** OpenADR key profile; default 'ecc'. Fabric identities are always ECDSA P-256. */
  readonly profile?: KeyProfile;
  /** Fabric org; default Org2 for fabric-client (customers), Org1 otherwise. */
  readonly org?: FabricOrgName;
  /** Fabric attributes, e.g. { ID: 'smartmeter:…', IDprovider: 'utility:1234' }. */
  readonly attrs?: Readonly<Record<string, string>>;
  /** Fabric CA affiliation; default ''. */
  readonly affiliation?: string;
  /** Server certificates (vtn, fabric-peer TLS): subjectAltName DNS names / IPs. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Replace an existing identity of that name. */
  readonly force?: boolean;
}

export interface OpenadrIdentitySummary {
  readonly role: OpenadrRole;
  readonly name: string;
  readonly profile: KeyProfile;
  readonly dir: string;
  /** The 2.0b fingerprint (§10.5.1) of cert.pem. */
  readonly fingerprint: string;
  readonly notAfter: string;
}

export interface FabricIdentitySummary {
  readonly org: FabricOrgName;
  readonly mspId: string;
  readonly name: string;
  readonly nodeOu: string;
  readonly mspDir: string;
}

export interface PkiSummary {
  readonly dir: string;
  /** True when this call created the PKI, false when an existing one was left as it was. */
  readonly created: boolean;
  readonly openadr: readonly OpenadrIdentitySummary[];
  readonly fabric: readonly FabricIdentitySummary[];
}

export interface IssuedIdentity {
  readonly kind: IdentityKind;
  readonly name: string;
  /** The identity's folder (OpenADR: cert/chain/key; Fabric: the folder holding msp/). */
  readonly dir: string;
  readonly certificatePem: string;
  /** OpenADR identities: the 2.0b fingerprint. */
  readonly fingerprint?: string;
  /** Fabric identities: MSP id and msp/ folder. */
  readonly mspId?: string;
  readonly mspDir?: string;
}

function isInitialised(dir: string): boolean {
  return existsSync(pkiLayout.manifest(dir));
}

/** Create the development PKI in `dir`, or describe the one already there. */
export async function initPki(options: Readonly<InitPkiOptions>): Promise<PkiSummary> {
  const { dir } = options;
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CertsError('INVALID_OPTIONS', `${dir} exists and is not a directory; choose another PKI directory`);
  if (isInitialised(dir) && options.force !== true) return { ...describePki(dir), created: false };
  const leftovers = PKI_TOP_LEVEL.filter((entry) => existsSync(join(dir, entry)));
  if (leftovers.length > 0) {
    if (options.force !== true) {
      throw new CertsError('PKI_INCOMPLETE', `${dir} holds ${leftovers.join(', ')} but no pki.json: an earlier init was interrupted; run \`certs init ${dir} --force\` to start again`);
    }
    for (const entry of leftovers) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  ensureDir(dir);
  const leaf = { days: options.days, now: options.now };
  const ca = { now: options.now };

  // OpenADR: one root and one intermediate per profile, a VTN server certificate and a VEN client certificate in each.
  const bundle: string[] = [];
  for (const profile of ['rsa', 'ecc'] as const) {
    const label = profile.toUpperCase();
    const root = await createRootCa({ ...ca, commonName: `OpenADR dev ${label} Root CA`, profile });
    const intermediate = await createIntermediateCa({ ...ca, commonName: `OpenADR dev ${label} Intermediate CA`, issuer: root });
    writeCa(pkiLayout.openadrRootCa(dir, profile), root);
    writeCa(pkiLayout.openadrIntermediateCa(dir, profile), intermediate);
    bundle.push(root.certificatePem);
    writeOpenadrIdentity(pkiLayout.openadrIdentity(dir, 'vtn', `vtn-${profile}`), await issueServerCertificate({ ...leaf, commonName: `vtn-${profile}`, issuer: intermediate }));
    writeOpenadrIdentity(pkiLayout.openadrIdentity(dir, 'ven', `ven-${profile}`), await issueClientCertificate({ ...leaf, commonName: `ven-${profile}`, issuer: intermediate }));
  }
  writePublicFile(pkiLayout.caBundle(dir), bundle.join(''));

  // Fabric: per org a CA and a TLS CA, the org MSP, peer0, an admin; Org1 the system operator and a retailer, Org2 the customers.
  for (const org of Object.values(FABRIC_ORGS)) {
    const orgCa = await createRootCa({ ...ca, commonName: `ca.${org.domain}`, organization: org.domain, profile: 'ecc' });
    const tlsCa = await createRootCa({ ...ca, commonName: `tlsca.${org.domain}`, organization: org.domain, profile: 'ecc' });
    writeFabricCa(pkiLayout.fabricCa(dir, org), pkiLayout.fabricCaCertFile(org, false), orgCa);
    writeFabricCa(pkiLayout.fabricTlsCa(dir, org), pkiLayout.fabricCaCertFile(org, true), tlsCa);
    writeMsp(pkiLayout.fabricOrgMsp(dir, org), { caCertificatesPem: [orgCa.certificatePem], tlsCaCertificatesPem: [tlsCa.certificatePem] });
    await writeFabricIdentity(dir, org, orgCa, tlsCa, { ...leaf, commonName: 'peer0', nodeOu: 'peer' });
    await writeFabricIdentity(dir, org, orgCa, tlsCa, { ...leaf, commonName: 'Admin', nodeOu: 'admin' });
    if (org.name === 'Org1') {
      await writeFabricIdentity(dir, org, orgCa, tlsCa, { ...leaf, commonName: 'dso', nodeOu: 'client', attrs: { [ATTR_ID]: 'operator:dso' } });
      await writeFabricIdentity(dir, org, orgCa, tlsCa, { ...leaf, commonName: 'retailer', nodeOu: 'client', attrs: { [ATTR_ID]: DEV_RETAILER_ID } });
    } else {
      for (const c of DEV_CUSTOMERS) {
        // Thesis listing 5.1: affiliation org2, role client, attributes ID and IDprovider in the enrollment certificate.
        await writeFabricIdentity(dir, org, orgCa, tlsCa, { ...leaf, commonName: c.name, nodeOu: 'client', affiliation: 'org2', attrs: { [ATTR_ID]: c.meter, [ATTR_ID_PROVIDER]: DEV_RETAILER_ID } });
      }
    }
  }

  const manifest = { format: PKI_FORMAT, version: 1, createdAt: (options.now ?? new Date()).toISOString(), fabricOrgs: Object.values(FABRIC_ORGS) };
  writePublicFile(pkiLayout.manifest(dir), `${JSON.stringify(manifest, null, 2)}\n`);
  return { ...describePki(dir), created: true };
}

function writeCa(dir: string, credential: Credential): void {
  ensureDir(dir);
  writePublicFile(join(dir, CERT_FILE), credential.certificatePem);
  writeKeyFile(join(dir, KEY_FILE), credential.privateKeyPem);
}

function writeFabricCa(dir: string, certFile: string, credential: Credential): void {
  ensureDir(dir);
  writePublicFile(join(dir, certFile), credential.certificatePem);
  writeKeyFile(join(dir, MSP_KEY_FILE), credential.privateKeyPem);
}

function writeOpenadrIdentity(dir: string, credential: Credential): string {
  ensureDir(dir);
  const fingerprint = certificateFingerprint(credential.certificatePem);
  writePublicFile(join(dir, CERT_FILE), credential.certificatePem);
  writePublicFile(join(dir, CHAIN_FILE), chainPem(credential));
  writeKeyFile(join(dir, KEY_FILE), credential.privateKeyPem);
  writePublicFile(join(dir, FINGERPRINT_FILE), `${fingerprint}\n`);
  return fingerprint;
}

interface FabricIdentitySpec extends ValidityOptions {
  readonly commonName: string;
  readonly nodeOu: FabricNodeOu;
  readonly attrs?: Readonly<Record<string, string>>;
  readonly affiliation?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

async function writeFabricIdentity(root: string, org: FabricOrg, orgCa: Credential, tlsCa: Credential, spec: FabricIdentitySpec): Promise<{ dir: string; mspDir: string; certificatePem: string }> {
  const isPeer = spec.nodeOu === 'peer';
  const dir = isPeer ? pkiLayout.fabricPeer(root, org, spec.commonName) : pkiLayout.fabricUser(root, org, spec.commonName);
  const identity = await issueFabricIdentity({ ...spec, organization: org.domain, issuer: orgCa });
  const mspDir = join(dir, 'msp');
  writeMsp(mspDir, {
    caCertificatesPem: [orgCa.certificatePem],
    tlsCaCertificatesPem: [tlsCa.certificatePem],
    signCertificatePem: identity.certificatePem,
    privateKeyPem: identity.privateKeyPem,
  });
  if (isPeer) {
    // The peer's TLS server certificate, issued by the org's TLS CA (cryptogen's peers/<host>/tls/ files).
    const host = `${spec.commonName}.${org.domain}`;
    const tls = await issueServerCertificate({
      ...spec,
      commonName: host,
      organization: org.domain,
      issuer: tlsCa,
      dnsNames: spec.dnsNames ?? [host, spec.commonName, 'localhost'],
      ipAddresses: spec.ipAddresses ?? ['127.0.0.1', '::1'],
    });
    const tlsDir = join(dir, 'tls');
    ensureDir(tlsDir);
    writePublicFile(join(tlsDir, 'ca.crt'), tlsCa.certificatePem);
    writePublicFile(join(tlsDir, 'server.crt'), tls.certificatePem);
    writeKeyFile(join(tlsDir, 'server.key'), tls.privateKeyPem);
  }
  return { dir, mspDir, certificatePem: identity.certificatePem };
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

async function loadOpenadrIssuer(root: string, profile: KeyProfile): Promise<Credential> {
  const dir = pkiLayout.openadrIntermediateCa(root, profile);
  return loadCredential({ certificatePem: readText(join(dir, CERT_FILE)), privateKeyPem: readText(join(dir, KEY_FILE)) });
}

async function loadFabricCa(root: string, org: FabricOrg, tls: boolean): Promise<Credential> {
  const dir = tls ? pkiLayout.fabricTlsCa(root, org) : pkiLayout.fabricCa(root, org);
  return loadCredential({ certificatePem: readText(join(dir, pkiLayout.fabricCaCertFile(org, tls))), privateKeyPem: readText(join(dir, MSP_KEY_FILE)) });
}

/** Add one identity to an initialised PKI (`certs issue`). */
export async function issueIdentity(options: Readonly<IssueIdentityOptions>): Promise<IssuedIdentity> {
  const { dir, kind, name } = options;
  if (!isInitialised(dir)) throw new CertsError('PKI_NOT_FOUND', `${dir} holds no development PKI (no pki.json); run \`certs init ${dir}\` first`);
  if (!(IDENTITY_KINDS as readonly string[]).includes(kind)) throw new CertsError('INVALID_OPTIONS', `unknown identity kind '${String(kind)}'; use one of ${IDENTITY_KINDS.join(', ')}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new CertsError('INVALID_OPTIONS', `name '${name}' is not usable as a folder and certificate name: use 1 to 64 letters, digits and . _ - (starting with a letter or digit)`);
  const validity: ValidityOptions = { notBefore: options.notBefore, notAfter: options.notAfter, days: options.days, now: options.now };

  if (kind === 'ven' || kind === 'vtn') {
    if (options.attrs !== undefined && Object.keys(options.attrs).length > 0) throw new CertsError('INVALID_OPTIONS', 'attributes (--attr) belong to Fabric identities; OpenADR certificates carry none');
    const profile = options.profile ?? 'ecc';
    const target = pkiLayout.openadrIdentity(dir, kind, name);
    claim(target, options.force, name);
    const issuer = await loadOpenadrIssuer(dir, profile);
    const credential =
      kind === 'vtn'
        ? await issueServerCertificate({ ...validity, commonName: name, issuer, dnsNames: options.dnsNames, ipAddresses: options.ipAddresses })
        : await issueClientCertificate({ ...validity, commonName: name, issuer });
    const fingerprint = writeOpenadrIdentity(target, credential);
    return { kind, name, dir: target, certificatePem: credential.certificatePem, fingerprint };
  }

  if (options.profile === 'rsa') throw new CertsError('INVALID_OPTIONS', 'Fabric identities are ECDSA P-256 (the key type a Fabric MSP signs with); drop --profile rsa');
  const nodeOu: FabricNodeOu = kind === 'fabric-peer' ? 'peer' : kind === 'fabric-admin' ? 'admin' : 'client';
  const orgName = options.org ?? (kind === 'fabric-client' ? 'Org2' : 'Org1');
  const org = FABRIC_ORGS[orgName];
  if (org === undefined) throw new CertsError('INVALID_OPTIONS', `unknown org '${String(orgName)}'; use Org1 or Org2`);
  const target = nodeOu === 'peer' ? pkiLayout.fabricPeer(dir, org, name) : pkiLayout.fabricUser(dir, org, name);
  claim(target, options.force, name);
  const orgCa = await loadFabricCa(dir, org, false);
  const tlsCa = await loadFabricCa(dir, org, true);
  const written = await writeFabricIdentity(dir, org, orgCa, tlsCa, {
    ...validity,
    commonName: name,
    nodeOu,
    attrs: options.attrs,
    affiliation: options.affiliation,
    dnsNames: options.dnsNames,
    ipAddresses: options.ipAddresses,
  });
  return { kind, name, dir: written.dir, certificatePem: written.certificatePem, mspId: org.mspId, mspDir: written.mspDir };
}

function claim(target: string, force: boolean | undefined, name: string): void {
  if (!existsSync(target)) return;
  if (force !== true) throw new CertsError('IDENTITY_EXISTS', `an identity named '${name}' already exists at ${target}; choose another name or pass --force to replace it`);
  rmSync(target, { recursive: true, force: true });
}

function subdirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** What an initialised PKI holds: OpenADR identities with fingerprints, Fabric identities with their MSP. */
export function describePki(dir: string): PkiSummary {
  if (!isInitialised(dir)) throw new CertsError('PKI_NOT_FOUND', `${dir} holds no development PKI (no pki.json); run \`certs init ${dir}\` first`);
  const openadr: OpenadrIdentitySummary[] = [];
  for (const role of ['vtn', 'ven'] as const) {
    for (const name of subdirs(pkiLayout.openadrRoleDir(dir, role))) {
      const idDir = pkiLayout.openadrIdentity(dir, role, name);
      const pem = readText(join(idDir, CERT_FILE));
      const cert = new X509Certificate(pem);
      const profile: KeyProfile = cert.publicKey.asymmetricKeyType === 'rsa' ? 'rsa' : 'ecc';
      openadr.push({ role, name, profile, dir: idDir, fingerprint: certificateFingerprint(cert), notAfter: new Date(cert.validTo).toISOString() });
    }
  }
  const fabric: FabricIdentitySummary[] = [];
  for (const org of Object.values(FABRIC_ORGS)) {
    const orgDir = pkiLayout.fabricOrg(dir, org);
    for (const group of ['peers', 'users']) {
      for (const entry of subdirs(join(orgDir, group))) {
        const mspDir = join(orgDir, group, entry, 'msp');
        const certPath = join(mspDir, 'signcerts', 'cert.pem');
        if (!existsSync(certPath)) continue;
        const cert = new X509Certificate(readText(certPath));
        const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? entry;
        const nodeOu = /^OU=(.*)$/m.exec(cert.subject)?.[1] ?? '';
        fabric.push({ org: org.name, mspId: org.mspId, name: cn, nodeOu, mspDir });
      }
    }
  }
  return { dir, created: false, openadr, fabric };
}

/** The summary `certs init` prints: each VTN and VEN with its fingerprint, each Fabric identity with its MSP. */
export function formatPkiSummary(summary: PkiSummary): string {
  const lines = [summary.created ? `Created a development PKI in ${summary.dir}` : `A development PKI already exists in ${summary.dir}; left untouched (use --force to recreate it)`, ''];
  lines.push('OpenADR 2.0b (trust anchors: openadr/ca-bundle.pem):');
  for (const id of summary.openadr) lines.push(`  ${id.role.toUpperCase()} ${id.name.padEnd(12)} ${id.profile.toUpperCase().padEnd(3)}  fingerprint ${id.fingerprint}  expires ${id.notAfter.slice(0, 10)}`);
  lines.push('', 'Hyperledger Fabric:');
  for (const id of summary.fabric) lines.push(`  ${id.mspId} ${id.nodeOu.padEnd(6)} ${id.name.padEnd(12)} ${id.mspDir}`);
  return `${lines.join('\n')}\n`;
}
