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
  /** Called when the given token was revoked: it is not stored again. */
  readonly onRevoked?: () => void;
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
    if (store.isAdminTokenRevoked(hash)) {
      // A revoked OADR_ADMIN_TOKEN stays revoked across restarts with the same environment.
      options.onRevoked?.();
      return undefined;
    }
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

/** The token record an `Authorization: Bearer …` header stands for; an expired token is unknown. */
export function authenticate(store: VtnStore, authorization: string | undefined, now: number = Date.now()): AdminTokenRecord {
  const m = authorization === undefined ? null : /^Bearer[ ]+([\x21-\x7e]+)\s*$/i.exec(authorization);
  if (m === null) throw new VtnError('UNAUTHORIZED', 'send the admin token as `Authorization: Bearer <token>`');
  const rec = store.findAdminTokenByHash(hashToken(m[1] as string));
  if (rec === undefined) throw new VtnError('UNAUTHORIZED', 'the bearer token is not known to this VTN; use the token printed at first start, OADR_ADMIN_TOKEN, or one an operator created');
  if (rec.expiresAt !== undefined && rec.expiresAt <= now) throw new VtnError('UNAUTHORIZED', 'the bearer token has expired; ask an operator for a new one');
  return rec;
}

export interface AuthGateOptions {
  readonly store: VtnStore;
  readonly now: () => number;
  /** Failed authentications per client address per minute before 429. */
  readonly failuresPerMinute: number;
  /** Requests per token and, separately, per client address per minute before 429 (undefined: no limit). */
  readonly requestsPerMinute?: number | undefined;
  /** Called once per address and minute when the failure limit trips (the log line). */
  readonly onLimited: (address: string, failures: number) => void;
  /** Called once per token or address and minute when the request limit trips. */
  readonly onRequestsLimited?: ((who: { readonly address: string; readonly tokenId?: string }, requests: number) => void) | undefined;
}

const WINDOW_MS = 60_000;

/**
 * Counts per key in fixed one-minute windows. Memory is bounded: entries of past windows are
 * dropped when a new window starts, and the table is cleared when it holds `maxKeys` keys.
 */
function minuteCounter(maxKeys = 10_000) {
  const counts = new Map<string, { start: number; count: number; told: boolean }>();
  let windowStart = 0;
  return {
    /** The current count of `key` (without adding). */
    get(key: string, now: number) {
      const c = counts.get(key);
      return c === undefined || now - c.start >= WINDOW_MS ? undefined : c;
    },
    /** Adds one to `key`'s count; returns the entry. */
    add(key: string, now: number) {
      if (now - windowStart >= WINDOW_MS) {
        windowStart = now;
        for (const [k, c] of counts) if (now - c.start >= WINDOW_MS) counts.delete(k);
      }
      if (counts.size >= maxKeys) counts.clear();
      let c = this.get(key, now);
      if (c === undefined) {
        c = { start: now, count: 0, told: false };
        counts.set(key, c);
      }
      c.count++;
      return c;
    },
  };
}

/** Seconds until the window that began at `start` ends: the `Retry-After` of a 429. */
const retryAfterS = (start: number, now: number): number => Math.max(1, Math.ceil((start + WINDOW_MS - now) / 1000));

/**
 * Authentication with rate limits. Each client address may fail `failuresPerMinute` times in a
 * minute; then every request from it gets 429 (even with a right token) until the minute is over.
 * With `requestsPerMinute`, each token and each client address may make that many requests a
 * minute (counted separately, so neither many addresses sharing one token nor one address
 * cycling through tokens escapes). A 429 carries the seconds to wait (`Retry-After`).
 */
export function createAuthGate(o: Readonly<AuthGateOptions>): (address: string, authorization: string | undefined, needed: Permission) => AdminTokenRecord {
  const failures = minuteCounter();
  const byAddress = minuteCounter();
  const byToken = minuteCounter();
  const limit = o.requestsPerMinute;
  const limited = (c: { start: number; count: number; told: boolean }, now: number, who: { readonly address: string; readonly tokenId?: string }, what: string): never => {
    if (!c.told) {
      c.told = true;
      o.onRequestsLimited?.(who, c.count);
    }
    throw new VtnError('RATE_LIMITED', `more than ${String(limit)} admin requests a minute from ${what}; wait and retry (Retry-After)`, { retryAfterS: retryAfterS(c.start, now) });
  };
  return (address, authorization, needed) => {
    const now = o.now();
    const failed = failures.get(address, now);
    if (failed !== undefined && failed.count >= o.failuresPerMinute) {
      throw new VtnError('RATE_LIMITED', `too many failed authentications from ${address}; wait a minute and send a valid token`, { retryAfterS: retryAfterS(failed.start, now) });
    }
    if (limit !== undefined) {
      const a = byAddress.add(address, now);
      if (a.count > limit) limited(a, now, { address }, `address ${address}`);
    }
    let rec: AdminTokenRecord;
    try {
      rec = authenticate(o.store, authorization, now);
    } catch (err) {
      const e = failures.add(address, now);
      if (e.count >= o.failuresPerMinute && !e.told) {
        e.told = true;
        o.onLimited(address, e.count);
      }
      throw err;
    }
    if (limit !== undefined) {
      const t = byToken.add(rec.tokenId, now);
      if (t.count > limit) limited(t, now, { address, tokenId: rec.tokenId }, `token '${rec.tokenId}'`);
    }
    authorize(rec, needed);
    return rec;
  };
}

export function authorize(rec: AdminTokenRecord, needed: Permission): void {
  if (!ROLE_PERMISSIONS[rec.role].includes(needed)) {
    throw new VtnError('FORBIDDEN', `role ${rec.role} may not do this (needs '${needed}'); ask an operator for a token with that right`);
  }
}

/** A new token for a role; returns the clear token (shown once) and its record. */
export function createAdminToken(
  store: VtnStore,
  input: { readonly role: AdminRole; readonly name: string; readonly tokenId: string; readonly now: number; readonly retailerId?: string | undefined; readonly expiresAt?: number | undefined },
): { token: string; record: AdminTokenRecord } {
  if (input.expiresAt !== undefined && !(input.expiresAt > input.now)) throw new VtnError('INVALID_ARGUMENT', 'expiresAt must be in the future');
  if ((input.role === 'retailer') !== (input.retailerId !== undefined)) {
    throw new VtnError('INVALID_ARGUMENT', input.role === 'retailer' ? 'a retailer token needs the retailerId it speaks for (the `retailer` of its customers)' : `retailerId is for retailer tokens only, not ${input.role}`);
  }
  const token = generateToken();
  const record: AdminTokenRecord = {
    tokenId: input.tokenId, hash: hashToken(token), role: input.role, name: input.name, createdAt: input.now,
    ...(input.retailerId === undefined ? {} : { retailerId: input.retailerId }),
    ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
  };
  store.putAdminToken(record);
  return { token, record };
}
