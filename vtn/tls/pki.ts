/**
 * The VTN's TLS material from a PKI directory laid out by `oadr-ledger certs init` (docs/certs.md):
 * created on first start in `<data-dir>/pki` when absent, then read back on every start. CRLs live
 * in `<pki>/openadr/crl/*.pem`, one per CA (root and intermediate of both profiles): Node checks the
 * whole chain once a CRL is given, so either all four are there or none (docs/certs.md).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describePki, initPki, issueIdentity, loadCredential, pkiLayout, revoke, type PkiSummary } from '../../certs/index.ts';
import { VtnError } from '../errors.ts';
import type { PushTlsOptions, VtnTlsOptions } from './tls.ts';

export const VTN_PKI_DIR = 'pki';
const DAY_MS = 86_400_000;
export const VTN_CERT_NAMES = { rsa: 'vtn-rsa', ecc: 'vtn-ecc' } as const;
/**
 * The client certificate an operator's tools (curl, scripts) present to reach the admin API through
 * mutual TLS on the OpenADR port: a client certificate of the PKI's OpenADR roots, like a VEN's, in
 * `<pki>/openadr/ven/admin/`. The bearer token, not the certificate, is what authorises the admin API.
 */
export const ADMIN_CLIENT_NAME = 'admin';
const PROFILES = ['rsa', 'ecc'] as const;

export const crlDir = (pkiDir: string): string => join(pkiDir, 'openadr', 'crl');

export interface VtnPki {
  readonly dir: string;
  /** True when this call created the PKI. */
  readonly created: boolean;
  readonly tls: VtnTlsOptions;
  /** The VTN's ECC pair as a TLS client (push to VENs). */
  readonly push: PushTlsOptions;
  /** The VEN identities of the PKI with their 2.0b fingerprints (to enrol them). */
  readonly vens: readonly { readonly name: string; readonly fingerprint: string; readonly dir: string }[];
  /** The CA bundle a client trusts the VTN with (`<pki>/openadr/ca-bundle.pem`). */
  readonly caBundle: string;
  /** The admin client certificate's folder (chain.pem, key.pem), when the PKI has one. */
  readonly adminClientDir: string | undefined;
}

const read = (...p: string[]): string => readFileSync(join(...p), 'utf8');

/** Empty CRLs for the four OpenADR CAs (valid `days`), so revocation checking is on from the first start. */
export async function writeEmptyCrls(pkiDir: string, days = 365): Promise<void> {
  mkdirSync(crlDir(pkiDir), { recursive: true });
  const now = new Date();
  for (const profile of PROFILES) {
    for (const [name, caDir] of [['root', pkiLayout.openadrRootCa(pkiDir, profile)], ['intermediate', pkiLayout.openadrIntermediateCa(pkiDir, profile)]] as const) {
      const issuer = await loadCredential({ certificatePem: read(caDir, 'cert.pem'), privateKeyPem: read(caDir, 'key.pem') });
      const crl = await revoke({ issuer, certificates: [], thisUpdate: now, nextUpdate: new Date(now.getTime() + days * DAY_MS) });
      writeFileSync(join(crlDir(pkiDir), `${profile}-${name}.pem`), crl, { mode: 0o644 });
    }
  }
}

/** Read the VTN's material from `pkiDir`; refuses a directory that is not a complete PKI. */
export function loadVtnPki(pkiDir: string, created = false): VtnPki {
  if (!existsSync(pkiLayout.manifest(pkiDir))) {
    throw new VtnError('INVALID_CONFIG', `${pkiDir} is not a PKI made by 'oadr-ledger certs init' (no pki.json); create one or point the VTN at it`);
  }
  let summary: PkiSummary;
  try {
    summary = describePki(pkiDir);
  } catch (err) {
    throw new VtnError('INVALID_CONFIG', `cannot read the PKI in ${pkiDir}: ${(err as Error).message}`, { cause: err });
  }
  const id = (name: string): string => pkiLayout.openadrIdentity(pkiDir, 'vtn', name);
  for (const name of Object.values(VTN_CERT_NAMES)) {
    if (!existsSync(join(id(name), 'chain.pem'))) throw new VtnError('INVALID_CONFIG', `the PKI in ${pkiDir} has no VTN certificate ${name}; issue it with 'oadr-ledger certs issue --kind vtn --name ${name}'`);
  }
  const ca = read(pkiLayout.caBundle(pkiDir));
  const crls = existsSync(crlDir(pkiDir)) ? readdirSync(crlDir(pkiDir)).filter((f) => f.endsWith('.pem')).sort().map((f) => read(crlDir(pkiDir), f)) : [];
  return {
    dir: pkiDir,
    created,
    tls: {
      key: [read(id(VTN_CERT_NAMES.rsa), 'key.pem'), read(id(VTN_CERT_NAMES.ecc), 'key.pem')],
      cert: [read(id(VTN_CERT_NAMES.rsa), 'chain.pem'), read(id(VTN_CERT_NAMES.ecc), 'chain.pem')],
      ca,
      ...(crls.length === 0 ? {} : { crl: crls }),
    },
    push: { key: read(id(VTN_CERT_NAMES.ecc), 'key.pem'), cert: read(id(VTN_CERT_NAMES.ecc), 'chain.pem'), ca },
    vens: summary.openadr.filter((i) => i.role === 'ven' && i.name !== ADMIN_CLIENT_NAME).map((i) => ({ name: i.name, fingerprint: i.fingerprint, dir: i.dir })),
    caBundle: pkiLayout.caBundle(pkiDir),
    adminClientDir: existsSync(join(adminClientDir(pkiDir), 'chain.pem')) ? adminClientDir(pkiDir) : undefined,
  };
}

const adminClientDir = (pkiDir: string): string => pkiLayout.openadrIdentity(pkiDir, 'ven', ADMIN_CLIENT_NAME);

/** `<dataDir>/pki`: created with the certs library (and empty CRLs) when absent, then loaded; the admin client certificate issued when missing. */
export async function ensureVtnPki(pkiDir: string): Promise<VtnPki> {
  const created = !existsSync(pkiLayout.manifest(pkiDir));
  if (created) {
    await initPki({ dir: pkiDir });
    await writeEmptyCrls(pkiDir);
  }
  if (!existsSync(join(adminClientDir(pkiDir), 'chain.pem'))) await issueIdentity({ dir: pkiDir, kind: 'ven', name: ADMIN_CLIENT_NAME, force: true });
  return loadVtnPki(pkiDir, created);
}
