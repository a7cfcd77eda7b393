/**
 * Fabric MSP folders, laid out as Fabric's tools (peer, orderer, configtxgen, fabric-ca-client)
 * read them:
 *
 *     msp/
 *       cacerts/<ca>-cert.pem            the org's root CA certificate(s)
 *       intermediatecerts/<ca>-cert.pem  intermediate CA certificates, when the org has any
 *       tlscacerts/<tlsca>-cert.pem      the org's TLS CA certificate(s)
 *       signcerts/cert.pem               the identity's certificate (local MSP only)
 *       keystore/priv_sk                 its private key, PKCS#8, mode 0600 (local MSP only)
 *       config.yaml                      NodeOUs enabled, each OU identifier pinned to the issuing CA
 *
 * An org's verifying MSP (the one configtxgen puts in the channel configuration) has no signcerts
 * or keystore. `config.yaml` is written by hand (no YAML library) in the exact shape Fabric's
 * samples use.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { CertsError } from './errors.ts';
import { ensureDir, writeKeyFile, writePublicFile } from './files.ts';
import { FABRIC_NODE_OUS } from './pki.ts';

export const MSP_CONFIG_FILE = 'config.yaml';
export const MSP_SIGNCERT_FILE = 'cert.pem';
export const MSP_KEY_FILE = 'priv_sk';

export interface MspMaterial {
  /** Root CA certificates (PEM), at least one. */
  readonly caCertificatesPem: readonly string[];
  /** Intermediate CA certificates (PEM); the NodeOU identifiers then point at the first one. */
  readonly intermediateCertificatesPem?: readonly string[];
  /** TLS CA certificates (PEM). */
  readonly tlsCaCertificatesPem?: readonly string[];
  /** The identity's own certificate; omit for an org's verifying MSP. */
  readonly signCertificatePem?: string;
  /** The identity's private key (PKCS#8 PEM); written with mode 0600. */
  readonly privateKeyPem?: string;
  /** Write config.yaml with NodeOUs enabled; default true. */
  readonly nodeOUs?: boolean;
}

export interface MspFolder {
  readonly dir: string;
  readonly caCertificatesPem: readonly string[];
  readonly intermediateCertificatesPem: readonly string[];
  readonly tlsCaCertificatesPem: readonly string[];
  readonly signCertificatePem: string | undefined;
  readonly privateKeyPem: string | undefined;
  readonly configYaml: string | undefined;
}

/** A file name for a CA certificate: its CN, sanitised, plus `-cert.pem` (cryptogen's convention). */
export function caCertificateFileName(pem: string): string {
  const subject = new X509Certificate(pem).subject;
  const cn = /^CN=(.*)$/m.exec(subject)?.[1] ?? 'ca';
  return `${cn.replace(/[^A-Za-z0-9._-]/g, '_')}-cert.pem`;
}

/** config.yaml enabling NodeOUs, each identifier pinned to `caCertificatePath` (relative to the MSP folder). */
export function renderMspConfig(caCertificatePath: string): string {
  const lines = ['NodeOUs:', '  Enable: true'];
  for (const ou of FABRIC_NODE_OUS) {
    const key = `${ou[0]?.toUpperCase()}${ou.slice(1)}OUIdentifier`;
    lines.push(`  ${key}:`, `    Certificate: ${caCertificatePath}`, `    OrganizationalUnitIdentifier: ${ou}`);
  }
  return `${lines.join('\n')}\n`;
}

function writeCerts(dir: string, pems: readonly string[]): string[] {
  if (pems.length === 0) return [];
  ensureDir(dir);
  return pems.map((pem) => {
    const name = caCertificateFileName(pem);
    writePublicFile(join(dir, name), pem);
    return name;
  });
}

/** Write an MSP folder at `dir` (created if needed; existing files of the same names are replaced). */
export function writeMsp(dir: string, material: Readonly<MspMaterial>): void {
  if (material.caCertificatesPem.length === 0) throw new CertsError('INVALID_MSP', `an MSP needs at least one CA certificate in cacerts/ (${dir})`);
  ensureDir(dir);
  const cacerts = writeCerts(join(dir, 'cacerts'), material.caCertificatesPem);
  const intermediates = writeCerts(join(dir, 'intermediatecerts'), material.intermediateCertificatesPem ?? []);
  writeCerts(join(dir, 'tlscacerts'), material.tlsCaCertificatesPem ?? []);
  if (material.signCertificatePem !== undefined) {
    ensureDir(join(dir, 'signcerts'));
    writePublicFile(join(dir, 'signcerts', MSP_SIGNCERT_FILE), material.signCertificatePem);
  }
  if (material.privateKeyPem !== undefined) {
    ensureDir(join(dir, 'keystore'), 0o700);
    writeKeyFile(join(dir, 'keystore', MSP_KEY_FILE), material.privateKeyPem);
  }
  if (material.nodeOUs ?? true) {
    const pinned = intermediates[0] !== undefined ? `intermediatecerts/${intermediates[0]}` : `cacerts/${cacerts[0] ?? ''}`;
    writePublicFile(join(dir, MSP_CONFIG_FILE), renderMspConfig(pinned));
  }
}

function readAll(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

function readOne(dir: string, what: string): string | undefined {
  const all = readAll(dir);
  if (all.length > 1) throw new CertsError('INVALID_MSP', `${dir} holds ${all.length} files; an MSP ${what} folder must hold exactly one`);
  return all[0];
}

/** Read an MSP folder written by `writeMsp`, fabric-ca-client or cryptogen. */
export function readMsp(dir: string): MspFolder {
  const caCertificatesPem = readAll(join(dir, 'cacerts'));
  if (caCertificatesPem.length === 0) throw new CertsError('INVALID_MSP', `${dir}/cacerts is missing or empty; not an MSP folder (run \`certs init\` or point at the msp/ folder)`);
  const configPath = join(dir, MSP_CONFIG_FILE);
  return {
    dir,
    caCertificatesPem,
    intermediateCertificatesPem: readAll(join(dir, 'intermediatecerts')),
    tlsCaCertificatesPem: readAll(join(dir, 'tlscacerts')),
    signCertificatePem: readOne(join(dir, 'signcerts'), 'signcerts'),
    privateKeyPem: readOne(join(dir, 'keystore'), 'keystore'),
    configYaml: existsSync(configPath) ? readFileSync(configPath, 'utf8') : undefined,
  };
}
