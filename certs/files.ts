/**
 * Writing PKI files with the right permissions whatever the umask: private keys 0600, certificates
 * and CRLs 0644, folders 0755 (0700 for `keystore/`). A file is written to a temporary name, chmod-ed,
 * then renamed, so no reader ever sees a key with wider permissions or half a file.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;
export const DIR_MODE = 0o755;

export function ensureDir(dir: string, mode: number = DIR_MODE): void {
  mkdirSync(dir, { recursive: true, mode });
  chmodSync(dir, mode);
}

function writeAtomic(path: string, data: string | Uint8Array, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, data, { mode, flag: 'wx' });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** Write a private key: mode 0600. */
export function writeKeyFile(path: string, pem: string): void {
  writeAtomic(path, pem, KEY_FILE_MODE);
}

/** Write a certificate, chain, CRL or other public file: mode 0644. */
export function writePublicFile(path: string, data: string): void {
  writeAtomic(path, data, CERT_FILE_MODE);
}
