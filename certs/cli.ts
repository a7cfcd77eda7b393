/**
 * `oadr-ledger certs …`: the development PKI from the command line. Thin: parses arguments and
 * calls dev-pki.ts. Exit codes: 0 ok, 1 invalid input, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { certificateFingerprint } from '../oadr/index.ts';
import { formatPkiSummary, IDENTITY_KINDS, initPki, issueIdentity, type IdentityKind } from './dev-pki.ts';
import { CertsError } from './errors.ts';
import { KEY_PROFILES, type KeyProfile } from './keys.ts';
import { FABRIC_ORG_NAMES, type FabricOrgName } from './layout.ts';

export const CERTS_USAGE = `Usage: oadr-ledger certs <init|issue|fingerprint> …

  init DIR [--force] [--days N]
        create a development PKI in DIR: OpenADR 2.0b root and intermediate CAs (RSA 2048 and
        ECDSA P-256), VTN server and VEN client certificates in both profiles, and Fabric MSP
        material for Org1 and Org2 (CA, TLS CA, peer0, Admin, dso, retailer, customer_1, customer_2
        with the ID and IDprovider attributes). An existing PKI is left untouched unless --force.
        Prints each identity, with the fingerprint of every VTN and VEN.
  issue --dir DIR --kind ${IDENTITY_KINDS.join('|')} --name NAME
        [--profile rsa|ecc] [--org Org1|Org2] [--attr NAME=VALUE]… [--affiliation A]
        [--dns NAME]… [--ip ADDRESS]… [--days N] [--force]
        add one identity to the PKI in DIR. ven/vtn: OpenADR certificate of that profile (default
        ecc), issued by the profile's intermediate CA; fabric-*: MSP folder signed by the org's CA
        (default org Org2 for fabric-client, Org1 otherwise), --attr e.g. ID=smartmeter:20360162.
  fingerprint FILE
        print the OpenADR 2.0b fingerprint (last 10 bytes of SHA-256, §10.5.1) of a PEM or DER
        certificate; FILE may be - for standard input.

Keys are written as PKCS#8 PEM with mode 0600. Validity: --days (default 730 for certificates).
Without a command this help. Exit codes: 0 ok or help, 1 invalid input, 2 usage error.
`;

const OK = 0;
const INVALID = 1;
const USAGE = 2;

class UsageError extends Error {}

/** Where the command writes; the process's streams by default, a buffer in tests. */
export interface CertsIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

function usageError(message: string): never {
  throw new UsageError(message);
}

function positiveDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const days = Number(value);
  if (!(Number.isInteger(days) && days > 0)) usageError(`--days must be a positive integer, got '${value}'`);
  return days;
}

function oneOf<T extends string>(option: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) usageError(`${option} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

function parseAttrs(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (values === undefined) return undefined;
  const attrs: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf('=');
    if (eq <= 0) usageError(`--attr takes NAME=VALUE, got '${pair}'`);
    attrs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return attrs;
}

export async function runCertsCommand(argv: string[], io: CertsIo = process): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`oadr-ledger certs: ${err.message}\n\n${CERTS_USAGE}`);
      return USAGE;
    }
    if (err instanceof CertsError) {
      io.stderr.write(`oadr-ledger certs: ${err.code}: ${err.message}\n`);
      return INVALID;
    }
    throw err;
  }
}

async function run(argv: string[], io: CertsIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        force: { type: 'boolean' },
        days: { type: 'string' },
        dir: { type: 'string' },
        kind: { type: 'string' },
        name: { type: 'string' },
        profile: { type: 'string' },
        org: { type: 'string' },
        attr: { type: 'string', multiple: true },
        affiliation: { type: 'string' },
        dns: { type: 'string', multiple: true },
        ip: { type: 'string', multiple: true },
      },
    });
  } catch (err) {
    usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  if (values.help === true || action === undefined) {
    io.stdout.write(CERTS_USAGE);
    return OK;
  }
  switch (action) {
    case 'init': {
      const [dir, ...extra] = rest;
      if (dir === undefined || extra.length > 0) usageError('init takes exactly one directory');
      onlyOptions(values, ['force', 'days']);
      const summary = await initPki({ dir, force: values.force === true, days: positiveDays(values.days) });
      io.stdout.write(formatPkiSummary(summary));
      return OK;
    }
    case 'issue': {
      if (rest.length > 0) usageError(`issue takes no positional arguments, got '${rest.join(' ')}'`);
      if (values.dir === undefined || values.kind === undefined || values.name === undefined) usageError('issue needs --dir, --kind and --name');
      const issued = await issueIdentity({
        dir: values.dir,
        kind: oneOf<IdentityKind>('--kind', values.kind, IDENTITY_KINDS) as IdentityKind,
        name: values.name,
        profile: oneOf<KeyProfile>('--profile', values.profile, KEY_PROFILES),
        org: oneOf<FabricOrgName>('--org', values.org, FABRIC_ORG_NAMES),
        attrs: parseAttrs(values.attr),
        affiliation: values.affiliation,
        dnsNames: values.dns,
        ipAddresses: values.ip,
        days: positiveDays(values.days),
        force: values.force === true,
      });
      const where = issued.mspDir ?? issued.dir;
      const detail = issued.fingerprint !== undefined ? `fingerprint ${issued.fingerprint}` : `MSP ${issued.mspId ?? ''}`;
      io.stdout.write(`issued ${issued.kind} ${issued.name}: ${where} (${detail})\n`);
      return OK;
    }
    case 'fingerprint': {
      const [file, ...extra] = rest;
      if (file === undefined || extra.length > 0) usageError('fingerprint takes exactly one FILE');
      onlyOptions(values, []);
      let input: Buffer;
      try {
        input = readFileSync(file === '-' ? 0 : file);
      } catch (err) {
        usageError(`cannot read ${file}: ${(err as Error).message}`);
      }
      let fingerprint: string;
      try {
        fingerprint = certificateFingerprint(input);
      } catch (err) {
        throw new CertsError('INVALID_CERTIFICATE', `${file} is not an X.509 certificate in PEM or DER form`, { cause: err });
      }
      io.stdout.write(`${fingerprint}\n`);
      return OK;
    }
    default:
      usageError(`unknown command '${action}'`);
  }
}

function onlyOptions(values: Record<string, unknown>, allowed: readonly string[]): void {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && key !== 'help' && !allowed.includes(key)) usageError(`--${key} does not apply here`);
  }
}
