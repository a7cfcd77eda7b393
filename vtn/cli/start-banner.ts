/**
 * What `oadr-ledger vtn` tells an operator once it listens: where the OpenADR services and the
 * admin API are, where the admin token and the development PKI are, and one `curl` line that
 * works as printed. Also the admin token file: a token generated at first start is written to
 * `<dataDir>/admin-token` (mode 0600) before the VTN listens, so a start that then fails (a port in
 * use) loses nothing, and the next start says where it is.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authenticate } from '../admin/auth.ts';
import type { VtnStore } from '../store/store.ts';
import type { VtnPki } from '../tls/pki.ts';

/** The file beside the VTN's data that keeps the admin token generated at first start. */
export const ADMIN_TOKEN_FILE = 'admin-token';

export const adminTokenPath = (dataDir: string): string => join(dataDir, ADMIN_TOKEN_FILE);

/** Writes a generated token for the operator only (0600); false when it cannot be written. */
export function keepAdminToken(dataDir: string, token: string): boolean {
  if (dataDir === ':memory:') return false;
  try {
    writeFileSync(adminTokenPath(dataDir), `${token}\n`, { mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}

/** Where the operator's token comes from at this start. */
export type TokenSource =
  | { readonly kind: 'generated'; readonly token: string; readonly file: string | undefined }
  | { readonly kind: 'environment' }
  | { readonly kind: 'file'; readonly file: string; readonly valid: boolean }
  | { readonly kind: 'none' };

/** The token source of a start that generated no token: OADR_ADMIN_TOKEN, the kept file (still valid or not), or none. */
export function tokenSource(o: { readonly dataDir: string; readonly fromEnvironment: boolean; readonly store: VtnStore; readonly now: number }): TokenSource {
  if (o.fromEnvironment) return { kind: 'environment' };
  const file = adminTokenPath(o.dataDir);
  if (o.dataDir === ':memory:' || !existsSync(file)) return { kind: 'none' };
  let valid = true;
  try {
    authenticate(o.store, `Bearer ${readFileSync(file, 'utf8').trim()}`, o.now);
  } catch {
    valid = false;
  }
  return { kind: 'file', file, valid };
}

export interface BannerInput {
  /** The OpenADR server's URL, as `vtn.listen()` resolved it. */
  readonly url: string;
  /** The separate admin server's URL, when `adminPort` is set. */
  readonly adminUrl: string | undefined;
  readonly pathPrefix: string;
  readonly token: TokenSource;
  /** Undefined with --insecure-http. */
  readonly pki: VtnPki | undefined;
}

const shellQuote = (s: string): string => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** A URL a client on this machine can use: a wildcard bind address becomes loopback. */
function reachable(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

/** The lines printed once the VTN listens. */
export function startBanner(b: BannerInput): string {
  const base = reachable(b.url);
  const admin = b.adminUrl === undefined ? base : reachable(b.adminUrl);
  const tls = b.pki !== undefined;
  const lines = [`oadr-ledger vtn: listening${tls ? ' (mutual TLS)' : ' (plain HTTP, loopback only)'}`];
  lines.push(`  OpenADR 2.0b  ${base}${b.pathPrefix}/OpenADR2/Simple/2.0b/  (a VEN's --vtn-url: ${base}${b.pathPrefix}/)`);
  lines.push(`  admin API     ${admin}/api/v1  (OpenAPI: ${admin}/docs)${b.adminUrl === undefined ? '' : ' on its own port'}`);
  // The dashboard is served beside the admin API; over mutual TLS a browser needs the admin port (docs/vtn.md).
  lines.push(`  dashboard     ${admin}/${tls && b.adminUrl === undefined ? '  (a browser has no client certificate: start with --admin-port N to open it there)' : ''}`);
  let bearer: string;
  switch (b.token.kind) {
    case 'generated':
      lines.push(`  admin token   ${b.token.token}`);
      lines.push(
        b.token.file === undefined
          ? '                generated now, shown only this once: keep it, or set OADR_ADMIN_TOKEN'
          : `                generated now (operator), kept in ${b.token.file} (mode 0600; OADR_ADMIN_TOKEN_FILE=${b.token.file} uses it)`,
      );
      bearer = b.token.file === undefined ? '$OADR_ADMIN_TOKEN' : `$(cat ${shellQuote(b.token.file)})`;
      break;
    case 'file':
      lines.push(`  admin token   in ${b.token.file}${b.token.valid ? '' : ' — no longer valid (revoked or expired): create another with an operator token, or set OADR_ADMIN_TOKEN'}`);
      bearer = `$(cat ${shellQuote(b.token.file)})`;
      break;
    case 'environment':
      lines.push('  admin token   the one in OADR_ADMIN_TOKEN (or the file named by OADR_ADMIN_TOKEN_FILE)');
      bearer = '$OADR_ADMIN_TOKEN';
      break;
    default:
      lines.push('  admin token   generated at first start; its file is gone: use a token an operator created, or set OADR_ADMIN_TOKEN');
      bearer = '$OADR_ADMIN_TOKEN';
  }
  const auth = `-H "Authorization: Bearer ${bearer}"`;
  if (b.pki === undefined) {
    lines.push(`  try           curl ${auth} ${admin}/api/v1/customers`);
  } else {
    const ca = `--cacert ${shellQuote(b.pki.caBundle)}`;
    const client = b.pki.adminClientDir;
    if (b.adminUrl !== undefined) {
      // The admin port is HTTPS without client certificates: the token is the credential.
      lines.push(`  PKI           ${b.pki.dir} (clients trust ${b.pki.caBundle})`);
      lines.push(`  try           curl ${ca} ${auth} ${admin}/api/v1/customers`);
    } else if (client !== undefined) {
      lines.push(`  PKI           ${b.pki.dir}: clients trust ${b.pki.caBundle}; the admin client certificate is in ${client}`);
      lines.push(`  try           curl ${ca} --cert ${shellQuote(join(client, 'chain.pem'))} --key ${shellQuote(join(client, 'key.pem'))} ${auth} ${admin}/api/v1/customers`);
    } else {
      lines.push(`  PKI           ${b.pki.dir}: clients trust ${b.pki.caBundle}; it has no admin client certificate:`);
      lines.push(`                oadr-ledger certs issue --dir ${shellQuote(b.pki.dir)} --kind ven --name admin (or start with --admin-port N: no client certificate there)`);
    }
  }
  return `${lines.join('\n')}\n`;
}
