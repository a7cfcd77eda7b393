/**
 * A test certificate authority issuing Fabric-style identities: real X.509 certificates (ECDSA P-256,
 * SHA-256) whose attributes sit in extension 1.2.3.4.5.6.7.8.1 exactly as Fabric CA writes them — the
 * extension value (the OCTET STRING content) is the raw JSON `{"attrs":{…}}`, keys sorted as Go's
 * json.Marshal sorts a map — so fabric-shim's `ClientIdentity` (which reads it with @fidm/x509) parses
 * them as it would on a peer. Identities carry OU=client (NodeOU style), keyUsage digitalSignature, and
 * Fabric CA's default attributes hf.EnrollmentID, hf.Type and hf.Affiliation unless told otherwise.
 *
 * CAs are cached per name for the life of the process, so a test run creates each CA key once.
 */

import 'reflect-metadata'; // @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill first
import * as x509 from '@peculiar/x509';
import { KeyObject, sign as nodeSign, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as never);

/** The OID under which Fabric CA stores attributes in an enrollment certificate. */
export const FABRIC_ATTRS_OID = '1.2.3.4.5.6.7.8.1';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface TestCa {
  readonly name: string;
  readonly certificatePem: string;
  readonly certificate: x509.X509Certificate;
  readonly privateKey: CryptoKey;
}

export interface TestIdentity {
  readonly mspId: string;
  readonly commonName: string;
  readonly certificatePem: string;
  /** Extractable ECDSA P-256 key (WebCrypto) for signing proposals and endorsements. */
  readonly privateKey: CryptoKey;
  /** The same key as PKCS#8 PEM (what fabric-gateway's `signers.newPrivateKeySigner` takes via createPrivateKey). */
  readonly privateKeyPem: string;
  /** The attributes written in the certificate, defaults included. */
  readonly attrs: Readonly<Record<string, string>>;
  readonly caCertificatePem: string;
}

export interface TestIdentityOptions {
  readonly mspId: string;
  readonly commonName: string;
  readonly attrs?: Readonly<Record<string, string>>;
  /** Default: `createTestCa('ca.' + mspId)`. */
  readonly ca?: TestCa;
  /** Node OU, default 'client'. */
  readonly ou?: 'client' | 'peer' | 'admin' | 'orderer';
  /** Add Fabric CA's default attributes (hf.EnrollmentID, hf.Type, hf.Affiliation). Default true. */
  readonly defaultAttrs?: boolean;
}

const caCache = new Map<string, Promise<TestCa>>();

function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01; // positive, no leading zero byte
  return Buffer.from(bytes).toString('hex');
}

/** `{"attrs":{…}}` with keys in byte order, as Fabric CA (Go json.Marshal of a map) writes it. */
export function encodeAttributes(attrs: Readonly<Record<string, string>>): Uint8Array {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(attrs).sort()) sorted[key] = attrs[key] as string;
  return new TextEncoder().encode(JSON.stringify({ attrs: sorted }));
}

async function issueCa(name: string): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ C: ['US'] }, { O: [name] }, { CN: [name] }],
    keys,
    signingAlgorithm: ALGORITHM,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 15 * 365 * DAY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { name, certificate, certificatePem: certificate.toString('pem'), privateKey: keys.privateKey };
}

/** A self-signed test CA (ECDSA P-256), created once per name per process. */
export function createTestCa(name: string): Promise<TestCa> {
  let ca = caCache.get(name);
  if (!ca) {
    ca = issueCa(name);
    caCache.set(name, ca);
  }
  return ca;
}

export async function createTestIdentity(options: Readonly<TestIdentityOptions>): Promise<TestIdentity> {
  const ca = options.ca ?? (await createTestCa(`ca.${options.mspId.toLowerCase()}`));
  const ou = options.ou ?? 'client';
  const attrs: Record<string, string> = {};
  if (options.defaultAttrs ?? true) {
    attrs['hf.Affiliation'] = '';
    attrs['hf.EnrollmentID'] = options.commonName;
    attrs['hf.Type'] = ou;
  }
  Object.assign(attrs, options.attrs ?? {});

  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    // DER order as Fabric CA issues it: OU then CN.
    subject: [{ OU: [ou] }, { CN: [options.commonName] }],
    issuer: ca.certificate.subjectName,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: ALGORITHM,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 365 * DAY_MS),
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
      new x509.Extension(FABRIC_ATTRS_OID, false, encodeAttributes(attrs)),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
  return {
    mspId: options.mspId,
    commonName: options.commonName,
    certificatePem: certificate.toString('pem'),
    privateKey: keys.privateKey,
    privateKeyPem,
    attrs,
    caCertificatePem: ca.certificatePem,
  };
}

// Order n of P-256, for the low-S rule Fabric's MSP enforces on ECDSA signatures.
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function derInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let body = Buffer.from(bytes.subarray(i));
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

/**
 * ECDSA P-256 / SHA-256 signature of `data`, DER-encoded with a low S value — the form a Fabric client
 * (and fabric-gateway's signers) produces and a Fabric MSP accepts.
 */
export function signFabric(privateKey: CryptoKey | KeyObject, data: Uint8Array): Buffer {
  const key = privateKey instanceof KeyObject ? privateKey : KeyObject.from(privateKey);
  const raw = nodeSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  const r = raw.subarray(0, 32);
  let s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  if (s > P256_N / 2n) s = P256_N - s;
  const sBytes = Buffer.from(s.toString(16).padStart(64, '0'), 'hex');
  const body = Buffer.concat([derInteger(r), derInteger(sBytes)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
