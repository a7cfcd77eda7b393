/**
 * A Fabric MSP folder as `fabric-ca-client enroll -M DIR` or `cryptogen` write it: the identity's
 * certificate in `signcerts/` (one PEM file) and its private key in `keystore/` (`<ski>_sk`,
 * `priv_sk`, or any file name). When `keystore/` holds several keys, the one whose public key is the
 * certificate's is taken. `cacerts/`, `tlscacerts/` and `config.yaml` are not needed by a client.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerError } from '../errors.ts';
import type { LedgerIdentity } from '../ledger.ts';

export interface MspFiles {
  readonly certificate: string;
  readonly privateKey: string;
}

function filesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(dir, e.name))
    .sort();
}

const configError = (message: string, cause?: unknown): LedgerError => new LedgerError('CONFIG', message, cause === undefined ? {} : { cause });

/**
 * The certificate and key files of the MSP folder `dir`, or undefined when it has no `signcerts/`
 * certificate or no `keystore/` file. Throws `CONFIG` when it is ambiguous (several certificates, no
 * key matching the certificate).
 */
export function mspFiles(dir: string): MspFiles | undefined {
  const certs = filesIn(join(dir, 'signcerts')).filter((f) => f.endsWith('.pem'));
  const keys = filesIn(join(dir, 'keystore'));
  if (certs.length === 0 || keys.length === 0) return undefined;
  if (certs.length > 1) throw configError(`the MSP folder ${dir} has ${certs.length} certificates in signcerts/ (${certs.join(', ')}); leave the identity's one`);
  const certificate = certs[0] as string;
  if (keys.length === 1) return { certificate, privateKey: keys[0] as string };
  let publicDer: Buffer;
  try {
    publicDer = new X509Certificate(readFileSync(certificate)).publicKey.export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw configError(`cannot read the certificate ${certificate}: ${(err as Error).message}; put the identity's PEM certificate there`, err);
  }
  for (const key of keys) {
    try {
      if (createPublicKey(createPrivateKey(readFileSync(key))).export({ type: 'spki', format: 'der' }).equals(publicDer)) return { certificate, privateKey: key };
    } catch {
      // not a private key: another file in the keystore
    }
  }
  throw configError(`none of the ${keys.length} files in ${join(dir, 'keystore')} is the private key of ${certificate}; put the identity's key there`);
}

/** The identity of the MSP folder `dir` in MSP `mspId`; `CONFIG` naming the missing part. */
export function readMspFolder(dir: string, mspId: string): LedgerIdentity {
  if (!existsSync(dir)) throw configError(`the MSP folder ${dir} does not exist; give the folder 'fabric-ca-client enroll -M' wrote (signcerts/, keystore/)`);
  const files = mspFiles(dir);
  if (files === undefined) {
    const missing = filesIn(join(dir, 'signcerts')).some((f) => f.endsWith('.pem')) ? 'keystore/ (the private key)' : 'signcerts/ (a PEM certificate)';
    throw configError(`the MSP folder ${dir} has nothing in ${missing}; give the folder 'fabric-ca-client enroll -M' wrote`);
  }
  let certificatePem: string;
  let privateKey: string;
  try {
    certificatePem = readFileSync(files.certificate, 'utf8');
    privateKey = readFileSync(files.privateKey, 'utf8');
    const cert = new X509Certificate(certificatePem);
    const key = createPrivateKey(privateKey);
    if (!createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(cert.publicKey.export({ type: 'spki', format: 'der' }))) {
      throw configError(`the private key ${files.privateKey} is not the key of the certificate ${files.certificate}; put the identity's own key in keystore/`);
    }
    // PKCS#8 whatever the file held (SEC1 'EC PRIVATE KEY' from older tools too).
    privateKey = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (err) {
    if (err instanceof LedgerError) throw err;
    throw configError(`cannot read the identity in ${dir}: ${(err as Error).message}; check the PEM files in signcerts/ and keystore/`, err);
  }
  return { mspId, certificatePem, privateKey };
}
