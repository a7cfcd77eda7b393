/**
 * Certificate authorities and the certificates they issue, for both worlds:
 *
 * - OpenADR 2.0b TLS (§10.1, R68): a root and an intermediate CA per profile (RSA 2048 / SHA-256 and
 *   ECDSA P-256 / SHA-256, as the OpenADR Alliance runs one hierarchy per key type), server
 *   certificates for the VTN (serverAuth + clientAuth, since the VTN is a TLS client when it pushes
 *   to a VEN, §9.2.1.1) and client certificates for VENs (clientAuth).
 * - Hyperledger Fabric: enrollment certificates as Fabric CA issues them (ECDSA P-256, NodeOU in the
 *   subject's OU, `hf.*` and custom attributes in extension 1.2.3.4.5.6.7.8.1).
 *
 * Everything is signed through @peculiar/x509 with WebCrypto; certificates can be made expired,
 * not yet valid or self-signed on request, as the security tests need; `revoke` writes a CRL.
 */
import { createPrivateKey, X509Certificate as NodeX509Certificate, randomBytes } from 'node:crypto';
import * as x509 from './x509.ts';
import { CertsError } from './errors.ts';
import { encodeFabricAttributes, FABRIC_ATTRS_OID } from './fabric-attributes.ts';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, pkiCrypto, signingAlgorithm, toPem, type CryptoKey, type KeyPair, type KeyProfile } from './keys.ts';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** Default validity of a leaf certificate: 2 years. */
export const DEFAULT_LEAF_DAYS = 730;
/** Default validity of a CA certificate: 10 years. */
export const DEFAULT_CA_DAYS = 3650;
/** Certificates start 5 minutes in the past, as Fabric CA backdates them, so a peer with a slow clock accepts them. */
export const BACKDATE_MS = 5 * 60 * 1000;
export const DEFAULT_ORGANIZATION = 'oadr-ledger development PKI';

/** A certificate with its private key, and the intermediate CA certificates between it and its root. */
export interface Credential {
  readonly profile: KeyProfile;
  readonly certificate: x509.X509Certificate;
  readonly certificatePem: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly privateKeyPem: string;
  /** Intermediate CA certificates (PEM), nearest issuer first; empty for a root or for what a root issued directly. */
  readonly intermediatesPem: readonly string[];
  /** True for a self-signed certificate (a root CA, or a self-signed leaf made for negative tests). */
  readonly selfSigned: boolean;
}

export interface ValidityOptions {
  /** Start of validity; default: now − 5 minutes. */
  readonly notBefore?: Date;
  /** End of validity; default: now + `days`. Set it in the past for an expired certificate. */
  readonly notAfter?: Date;
  /** Validity in days from now when `notAfter` is not given; default 730 for leaves, 3650 for CAs. */
  readonly days?: number;
  /** The clock, for tests; default `new Date()`. */
  readonly now?: Date;
}

export interface SubjectOptions extends ValidityOptions {
  readonly commonName: string;
  /** Subject O; default 'oadr-ledger development PKI'. */
  readonly organization?: string;
  /** Key type; default 'ecc' (P-256). */
  readonly profile?: KeyProfile;
  /** Use this key pair instead of generating one. */
  readonly keys?: KeyPair;
}

export interface RootCaOptions extends SubjectOptions {
  /** basicConstraints pathLenConstraint; default 1 (one intermediate below). */
  readonly pathLength?: number;
}

export interface IntermediateCaOptions extends SubjectOptions {
  readonly issuer: Credential;
  /** basicConstraints pathLenConstraint; default 0 (issues leaves only). */
  readonly pathLength?: number;
}

export interface LeafOptions extends SubjectOptions {
  /** The issuing CA; omitted: the certificate is self-signed (for negative tests). */
  readonly issuer?: Credential;
}

export interface ServerCertificateOptions extends LeafOptions {
  /** subjectAltName DNS names; default ['localhost']. */
  readonly dnsNames?: readonly string[];
  /** subjectAltName IP addresses; default ['127.0.0.1', '::1']. */
  readonly ipAddresses?: readonly string[];
  /** Add the clientAuth EKU (a VTN is also a TLS client when it pushes); default true. */
  readonly clientAuth?: boolean;
}

export const FABRIC_NODE_OUS = ['client', 'peer', 'admin', 'orderer'] as const;
export type FabricNodeOu = (typeof FABRIC_NODE_OUS)[number];

export interface FabricIdentityOptions extends Omit<LeafOptions, 'profile' | 'issuer'> {
  readonly issuer: Credential;
  /** NodeOU written as the first OU of the subject, and as `hf.Type`; default 'client'. */
  readonly nodeOu?: FabricNodeOu;
  /** Custom attributes, e.g. { ID: 'smartmeter:20360162', IDprovider: 'utility:1234' } (thesis listing 5.1). */
  readonly attrs?: Readonly<Record<string, string>>;
  /** Fabric CA affiliation (e.g. 'org2.department1'): written as OUs and as `hf.Affiliation`; default ''. */
  readonly affiliation?: string;
  /** Add Fabric CA's default attributes hf.Affiliation, hf.EnrollmentID, hf.Type; default true. */
  readonly defaultAttrs?: boolean;
}

export interface RevokeOptions {
  /** The CA that issued the certificates; it signs the CRL. */
  readonly issuer: Credential;
  /** Certificates to list as revoked (PEM, DER or parsed); may be empty for an empty CRL. */
  readonly certificates: readonly (string | Uint8Array | x509.X509Certificate)[];
  /** CRL reason code (RFC 5280 §5.3.1); default keyCompromise (1). */
  readonly reason?: number;
  /** thisUpdate and revocation date; default now. */
  readonly thisUpdate?: Date;
  /** nextUpdate; default thisUpdate + 30 days. */
  readonly nextUpdate?: Date;
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280 §4.1.2.2 allows up to 20). */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function validity(options: ValidityOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const now = options.now ?? new Date();
  const notBefore = options.notBefore ?? new Date(now.getTime() - BACKDATE_MS);
  const days = options.days ?? defaultDays;
  if (!(days > 0)) throw new CertsError('INVALID_OPTIONS', `validity must be a positive number of days, got ${days}`);
  const notAfter = options.notAfter ?? new Date(now.getTime() + days * DAY_MS);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime()) || notAfter <= notBefore) {
    throw new CertsError('INVALID_OPTIONS', `notAfter (${String(notAfter)}) must be a valid date after notBefore (${String(notBefore)})`);
  }
  return { notBefore, notAfter };
}

function checkName(what: string, value: string): void {
  // Printable, no DN-syntax surprises; what Fabric CA enrollment IDs and DNS-ish names use.
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._@:+-]{0,63}$/.test(value)) {
    throw new CertsError('INVALID_OPTIONS', `${what} '${value}' is not usable: use 1 to 64 letters, digits, space and . _ @ : + - (starting with a letter or digit)`);
  }
}

interface IssueParams {
  readonly subject: x509.JsonName;
  readonly keys: KeyPair;
  readonly issuer: Credential | undefined;
  readonly validity: { notBefore: Date; notAfter: Date };
  readonly extensions: x509.Extension[];
}

async function issue(params: IssueParams): Promise<Credential> {
  const { keys, issuer } = params;
  const extensions = [...params.extensions, await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, pkiCrypto)];
  if (issuer !== undefined) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate, false, pkiCrypto));
  const signer = issuer ?? { profile: keys.profile, privateKey: keys.privateKey };
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: params.subject,
      issuer: issuer === undefined ? params.subject : issuer.certificate.subjectName,
      publicKey: keys.publicKey,
      signingKey: signer.privateKey,
      signingAlgorithm: signingAlgorithm(signer.profile),
      notBefore: params.validity.notBefore,
      notAfter: params.validity.notAfter,
      extensions,
    },
    pkiCrypto,
  );
  const intermediatesPem = issuer === undefined || issuer.selfSigned ? [] : [issuer.certificatePem, ...issuer.intermediatesPem];
  return {
    profile: keys.profile,
    certificate,
    certificatePem: `${certificate.toString('pem')}\n`,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    intermediatesPem,
    selfSigned: issuer === undefined,
  };
}

function subjectName(options: SubjectOptions, ous: readonly string[] = []): x509.JsonName {
  checkName('commonName', options.commonName);
  return [{ O: [options.organization ?? DEFAULT_ORGANIZATION] }, ...ous.map((ou) => ({ OU: [ou] })), { CN: [options.commonName] }];
}

async function keysFor(options: SubjectOptions, fallback: KeyProfile): Promise<KeyPair> {
  return options.keys ?? generateKeyPair(options.profile ?? fallback);
}

function caExtensions(pathLength: number): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
  ];
}

function requireCa(issuer: Credential): void {
  const node = new NodeX509Certificate(issuer.certificatePem);
  if (!node.ca) throw new CertsError('INVALID_OPTIONS', `issuer ${node.subject.replace(/\n/g, ', ')} is not a CA certificate; issue with a root or intermediate CA`);
}

/** A self-signed root CA (basicConstraints CA:TRUE, keyCertSign + cRLSign). */
export async function createRootCa(options: Readonly<RootCaOptions>): Promise<Credential> {
  return issue({
    subject: subjectName(options),
    keys: await keysFor(options, 'ecc'),
    issuer: undefined,
    validity: validity(options, DEFAULT_CA_DAYS),
    extensions: caExtensions(options.pathLength ?? 1),
  });
}

/** An intermediate CA issued by `issuer`; of the issuer's key type unless `profile` says otherwise. */
export async function createIntermediateCa(options: Readonly<IntermediateCaOptions>): Promise<Credential> {
  requireCa(options.issuer);
  return issue({
    subject: subjectName(options),
    keys: await keysFor(options, options.issuer.profile),
    issuer: options.issuer,
    validity: validity(options, DEFAULT_CA_DAYS),
    extensions: caExtensions(options.pathLength ?? 0),
  });
}

function tlsKeyUsage(profile: KeyProfile): x509.KeyUsagesExtension {
  // RSA key exchange (TLS_RSA_WITH_AES_128_CBC_SHA256) encrypts the premaster secret to the key: keyEncipherment.
  const usage = profile === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.keyAgreement;
  return new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | usage, true);
}

const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** A TLS server certificate (the VTN's, or a Fabric peer's TLS certificate) with subjectAltName DNS and IP entries. */
export async function issueServerCertificate(options: Readonly<ServerCertificateOptions>): Promise<Credential> {
  if (options.issuer !== undefined) requireCa(options.issuer);
  const dnsNames = options.dnsNames ?? ['localhost'];
  const ipAddresses = options.ipAddresses ?? ['127.0.0.1', '::1'];
  for (const dns of dnsNames) checkName('DNS name', dns);
  const keys = await keysFor(options, options.issuer?.profile ?? 'ecc');
  const san = new x509.SubjectAlternativeNameExtension([...dnsNames.map((value) => ({ type: 'dns' as const, value })), ...ipAddresses.map((value) => ({ type: 'ip' as const, value }))], false);
  return issue({
    subject: subjectName(options),
    keys,
    issuer: options.issuer,
    validity: validity(options, DEFAULT_LEAF_DAYS),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      tlsKeyUsage(keys.profile),
      new x509.ExtendedKeyUsageExtension(options.clientAuth ?? true ? [OID_SERVER_AUTH, OID_CLIENT_AUTH] : [OID_SERVER_AUTH], false),
      san,
    ],
  });
}

/** A TLS client certificate (a VEN's): clientAuth only, the VEN's name as CN. */
export async function issueClientCertificate(options: Readonly<LeafOptions>): Promise<Credential> {
  if (options.issuer !== undefined) requireCa(options.issuer);
  const keys = await keysFor(options, options.issuer?.profile ?? 'ecc');
  return issue({
    subject: subjectName(options),
    keys,
    issuer: options.issuer,
    validity: validity(options, DEFAULT_LEAF_DAYS),
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), tlsKeyUsage(keys.profile), new x509.ExtendedKeyUsageExtension([OID_CLIENT_AUTH], false)],
  });
}

/**
 * A Fabric enrollment certificate as Fabric CA issues it: ECDSA P-256, subject
 * `O=…, OU=<nodeOu>, OU=<affiliation parts>…, CN=<enrollment id>`, keyUsage digitalSignature,
 * CA:FALSE, and the attributes (defaults hf.Affiliation, hf.EnrollmentID, hf.Type plus `attrs`) in
 * extension 1.2.3.4.5.6.7.8.1.
 */
export async function issueFabricIdentity(options: Readonly<FabricIdentityOptions>): Promise<Credential> {
  requireCa(options.issuer);
  const nodeOu = options.nodeOu ?? 'client';
  const affiliation = options.affiliation ?? '';
  const attrs: Record<string, string> = {};
  if (options.defaultAttrs ?? true) {
    attrs['hf.Affiliation'] = affiliation;
    attrs['hf.EnrollmentID'] = options.commonName;
    attrs['hf.Type'] = nodeOu;
  }
  for (const [name, value] of Object.entries(options.attrs ?? {})) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new CertsError('INVALID_OPTIONS', `attribute name '${name}' is not usable: use letters, digits and . _ -`);
    attrs[name] = value;
  }
  const affiliationOus = affiliation === '' ? [] : affiliation.split('.');
  for (const ou of affiliationOus) checkName('affiliation part', ou);
  const extensions: x509.Extension[] = [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.BasicConstraintsExtension(false, undefined, true)];
  if (Object.keys(attrs).length > 0) extensions.push(new x509.Extension(FABRIC_ATTRS_OID, false, encodeFabricAttributes(attrs)));
  return issue({
    subject: subjectName(options, [nodeOu, ...affiliationOus]),
    keys: await keysFor({ ...options, profile: 'ecc' }, 'ecc'),
    issuer: options.issuer,
    validity: validity(options, DEFAULT_LEAF_DAYS),
    extensions,
  });
}

/** Parse a certificate given as PEM text, DER bytes or already parsed. */
export function parseCertificate(cert: string | Uint8Array | x509.X509Certificate): x509.X509Certificate {
  if (cert instanceof x509.X509Certificate) return cert;
  try {
    return new x509.X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert));
  } catch (err) {
    throw new CertsError('INVALID_CERTIFICATE', 'not an X.509 certificate in PEM or DER form', { cause: err });
  }
}

/** A credential from files: the certificate, its private key and the intermediates above it (for `certs issue`). */
export async function loadCredential(options: { readonly certificatePem: string; readonly privateKeyPem: string; readonly intermediatesPem?: readonly string[] }): Promise<Credential> {
  const certificate = parseCertificate(options.certificatePem);
  const keys = await importPrivateKeyPem(options.privateKeyPem);
  const node = new NodeX509Certificate(options.certificatePem);
  if (!node.checkPrivateKey(createPrivateKey(options.privateKeyPem))) {
    throw new CertsError('INVALID_KEY', `the private key does not belong to the certificate ${node.subject.replace(/\n/g, ', ')}; check that key.pem and cert.pem come from the same folder`);
  }
  return {
    profile: keys.profile,
    certificate,
    certificatePem: `${certificate.toString('pem')}\n`,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    privateKeyPem: options.privateKeyPem,
    intermediatesPem: options.intermediatesPem ?? [],
    selfSigned: node.issuer === node.subject && node.verify(node.publicKey),
  };
}

/** The certificate followed by its intermediates (what a TLS peer sends), as one PEM text. */
export function chainPem(credential: Credential): string {
  return [credential.certificatePem, ...credential.intermediatesPem].join('');
}

/** A CRL signed by `issuer` listing `certificates` as revoked; returns it as PEM. */
export async function revoke(options: Readonly<RevokeOptions>): Promise<string> {
  const { issuer } = options;
  const issuerNode = new NodeX509Certificate(issuer.certificatePem);
  const thisUpdate = options.thisUpdate ?? new Date();
  const entries = options.certificates.map((cert) => {
    const parsed = parseCertificate(cert);
    const node = new NodeX509Certificate(Buffer.from(parsed.rawData));
    if (!node.checkIssued(issuerNode) || !node.verify(issuerNode.publicKey)) {
      throw new CertsError('NOT_ISSUED_BY_CA', `certificate ${node.subject.replace(/\n/g, ', ')} (serial ${node.serialNumber}) was not issued by ${issuerNode.subject.replace(/\n/g, ', ')}; revoke it with the CA that issued it`);
    }
    return { serialNumber: parsed.serialNumber, revocationDate: thisUpdate, reason: (options.reason ?? 1) as x509.X509CrlReason };
  });
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: issuer.certificate.subjectName,
      thisUpdate,
      nextUpdate: options.nextUpdate ?? new Date(thisUpdate.getTime() + 30 * DAY_MS),
      signingAlgorithm: signingAlgorithm(issuer.profile),
      signingKey: issuer.privateKey,
      entries,
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate, false, pkiCrypto)],
    },
    pkiCrypto,
  );
  // RFC 7468 §5 label; @peculiar/x509 writes `CRL`, which OpenSSL does not read.
  return toPem('X509 CRL', new Uint8Array(crl.rawData));
}
