/**
 * `OADR_*` environment overrides (precedence: defaults < config file < environment < flags, as
 * STYLE.md says; only cli/ reads the environment). Each known scalar setting has one variable,
 * its camelCase name in UPPER_SNAKE case with the `OADR_` prefix: `OADR_PORT`, `OADR_DATA_DIR`,
 * `OADR_REGISTRATION_POLICY`… A secret may come from a file: `OADR_ADMIN_TOKEN_FILE`.
 */
import { readFileSync } from 'node:fs';

type Kind = 'string' | 'integer' | 'boolean' | 'list';

/** The VTN settings that can be set from the environment, and their types. */
export const VTN_ENV_SETTINGS: Readonly<Record<string, Kind>> = {
  vtnId: 'string',
  dataDir: 'string',
  store: 'string',
  storeStatementTimeoutMs: 'integer',
  pathPrefix: 'string',
  bodyLimitBytes: 'integer',
  pollFrequencyMs: 'integer',
  registrationPolicy: 'string',
  cancelRetries: 'integer',
  host: 'string',
  port: 'integer',
  adminPort: 'integer',
  insecureHttp: 'boolean',
  tlsHandshakeTimeoutMs: 'integer',
  operationsAccess: 'string',
  metricsCacheMs: 'integer',
  ledgerOutboxReadyLimit: 'integer',
  optCoalesceMs: 'integer',
  adminAuthFailuresPerMinute: 'integer',
  adminRequestsPerMinute: 'integer',
  reportRequestRetryMs: 'integer',
  reportRequestRetries: 'integer',
  shutdownGraceMs: 'integer',
  'push.allowHttp': 'boolean',
  'push.allowedHosts': 'list',
  'push.requireCertificateHost': 'boolean',
  'push.maxAttempts': 'integer',
  'xmpp.url': 'string',
  'xmpp.jid': 'string',
  'xmpp.resource': 'string',
  'xmpp.cert': 'string',
  'xmpp.key': 'string',
  'xmpp.ca': 'string',
  'iec104.port': 'integer',
  'iec104.host': 'string',
  'iec104.allow': 'list',
  'iec104.commonAddress': 'integer',
  'iec104.connectionPoints': 'list',
  'iec104.unit': 'string',
  'iec104.selectRequired': 'boolean',
  ledger: 'string',
  'fabric.profile': 'string',
  'fabric.identity': 'string',
  'fabric.retailers': 'string',
  'fabric.defaultRetailer': 'string',
  'fabric.channel': 'string',
  'fabric.chaincode': 'string',
  'fabric.waitForCommit': 'boolean',
  'fabric.retryAttempts': 'integer',
};

/** `port` → `OADR_PORT`; a nested setting `push.allowHttp` → `OADR_PUSH_ALLOW_HTTP`. */
export const envName = (key: string): string => `OADR_${key.replace(/[A-Z]/g, (c) => `_${c}`).replace(/\./g, '_').toUpperCase()}`;

export class EnvConfigError extends Error {
  override readonly name = 'EnvConfigError';
}

/** The settings the environment gives, typed; a malformed value is an error naming the variable. */
export function configFromEnv(env: NodeJS.ProcessEnv, settings: Readonly<Record<string, Kind>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(settings)) {
    const name = envName(key);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown;
    if (kind === 'string') value = raw;
    else if (kind === 'list') value = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    else if (kind === 'integer') {
      if (!/^\d+$/.test(raw)) throw new EnvConfigError(`${name} must be a whole number, got '${raw}'`);
      value = Number(raw);
    } else {
      if (!['true', 'false', '1', '0'].includes(raw)) throw new EnvConfigError(`${name} must be true or false, got '${raw}'`);
      value = raw === 'true' || raw === '1';
    }
    const [outer, inner] = key.split('.') as [string, string | undefined];
    if (inner === undefined) out[outer] = value;
    else out[outer] = { ...(out[outer] as Record<string, unknown> | undefined), [inner]: value };
  }
  return out;
}

/** A secret from `NAME` or from the file named by `NAME_FILE` (trailing newline dropped). */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file !== undefined && file !== '') {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new EnvConfigError(`${name}_FILE: cannot read ${file}: ${(err as Error).message}`);
    }
  }
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}
