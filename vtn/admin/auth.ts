/**
 * Bearer tokens of the admin API. A token is shown once, when created; the store keeps only its
 * SHA-256. Roles: `operator` (everything), `retailer` (read, its own customers and their meter data),
 * `read-only` (read). The first start without `OADR_ADMIN_TOKEN` generates an operator token and
 * hands it to the caller (the CLI prints it once); with `OADR_ADMIN_TOKEN`, that token is the
 * operator's bootstrap token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { VtnError } from '../errors.ts';
import type { AdminRole, AdminTokenRecord, VtnStore } from '../store/store.ts';

export { ADMIN_ROLES, type AdminRole, type AdminTokenRecord } from '../store/store.ts';

/** What a route needs. */
export const PERMISSIONS = ['read', 'customers', 'operate'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Readonly<Record<AdminRole, readonly Permission[]>> = {
  operator: ['read', 'customers', 'operate'],
  retailer: ['read', 'customers'],
  'read-only': ['read'],
};

/** Id of the token from `OADR_ADMIN_TOKEN` or generated at first start. */
export const BOOTSTRAP_TOKEN_ID = 'bootstrap';
const TOKEN_PREFIX = 'oadr_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export interface BootstrapOptions {
  /** OADR_ADMIN_TOKEN, passed in by the CLI. */
  readonly token?: string | undefined;
  readonly now: number;
}

/**
 * Make sure an operator can log in. A given token becomes (or replaces) the bootstrap token;
 * otherwise, when the store has no token at all, one is generated and returned — the only time it
 * exists in clear. Returns undefined when nothing was generated.
 */
export function bootstrapAdminToken(store: VtnStore, options: Readonly<BootstrapOptions>): string | undefined {
  if (options.token !== undefined) {
    if (options.token.length < 16) throw new VtnError('INVALID_CONFIG', 'OADR_ADMIN_TOKEN must be at least 16 characters; generate one with `openssl rand -base64 32`');
    const hash = hashToken(options.token);
    if (store.findAdminTokenByHash(hash) === undefined) {
      store.putAdminToken({ tokenId: BOOTSTRAP_TOKEN_ID, hash, role: 'operator', name: 'OADR_ADMIN_TOKEN', createdAt: options.now });
    }
    return undefined;
  }
  if (store.listAdminTokens().length > 0) return undefined;
  const token = generateToken();
  store.putAdminToken({ tokenId: BOOTSTRAP_TOKEN_ID, hash: hashToken(token), role: 'operator', name: 'generated at first start', createdAt: options.now });
  return token;
}

/** The token record an `Authorization: Bearer …` header stands for. */
export function authenticate(store: VtnStore, authorization: string | undefined): AdminTokenRecord {
  const m = authorization === undefined ? null : /^Bearer[ ]+([\x21-\x7e]+)\s*$/i.exec(authorization);
  if (m === null) throw new VtnError('UNAUTHORIZED', 'send the admin token as `Authorization: Bearer <token>`');
  const rec = store.findAdminTokenByHash(hashToken(m[1] as string));
  if (rec === undefined) throw new VtnError('UNAUTHORIZED', 'the bearer token is not known to this VTN; use the token printed at first start, OADR_ADMIN_TOKEN, or one an operator created');
  return rec;
}

export function authorize(rec: AdminTokenRecord, needed: Permission): void {
  if (!ROLE_PERMISSIONS[rec.role].includes(needed)) {
    throw new VtnError('FORBIDDEN', `role ${rec.role} may not do this (needs '${needed}'); ask an operator for a token with that right`);
  }
}

/** A new token for a role; returns the clear token (shown once) and its record. */
export function createAdminToken(store: VtnStore, input: { readonly role: AdminRole; readonly name: string; readonly tokenId: string; readonly now: number; readonly retailerId?: string | undefined }): { token: string; record: AdminTokenRecord } {
  if ((input.role === 'retailer') !== (input.retailerId !== undefined)) {
    throw new VtnError('INVALID_ARGUMENT', input.role === 'retailer' ? 'a retailer token needs the retailerId it speaks for (the `retailer` of its customers)' : `retailerId is for retailer tokens only, not ${input.role}`);
  }
  const token = generateToken();
  const record: AdminTokenRecord = { tokenId: input.tokenId, hash: hashToken(token), role: input.role, name: input.name, createdAt: input.now, ...(input.retailerId === undefined ? {} : { retailerId: input.retailerId }) };
  store.putAdminToken(record);
  return { token, record };
}
