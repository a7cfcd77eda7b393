/**
 * Fabric's common connection profile (JSON or YAML), the format of fabric-samples'
 * `connection-org1.json`: `name`, `client.organization`, `organizations.<org>.mspid` and `.peers`,
 * `peers.<name>.url` (`grpcs://host:port`, or `grpc://` without TLS) with `tlsCACerts.pem` or
 * `tlsCACerts.path` (relative to the profile's folder) and `grpcOptions.ssl-target-name-override`;
 * `channels` is optional (its first channel is the default). Certificate authorities and the orderers
 * are not read: the peer's gateway orders.
 *
 * The client's organisation is `client.organization`, or the only organisation of the profile; its
 * first peer is the gateway peer. The peers of the other organisations listed in the profile are
 * where the connector can wait for a commit on every organisation's peer.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LedgerError } from '../errors.ts';

export interface ProfilePeer {
  /** The peer's name in the profile (`peer0.org1.example.com`). */
  readonly name: string;
  readonly organization: string;
  readonly mspId: string;
  /** host:port */
  readonly endpoint: string;
  /** `grpc://`: no TLS (development networks only). */
  readonly plaintext: boolean;
  /** PEM of the peer's TLS CA (absent with `grpc://`). */
  readonly tlsRootCertificate?: string;
  /** `grpcOptions.ssl-target-name-override` (or `hostnameOverride`). */
  readonly hostnameOverride?: string;
}

export interface ConnectionProfile {
  readonly file: string;
  readonly name: string;
  /** The client's organisation and its MSP id. */
  readonly organization: string;
  readonly mspId: string;
  /** The client organisation's first peer: the gateway the connector talks to. */
  readonly gatewayPeer: ProfilePeer;
  /** Every peer of the profile that belongs to an organisation, the gateway peer first. */
  readonly peers: readonly ProfilePeer[];
  /** The first channel of the `channels` section, if any. */
  readonly channel?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses a profile's text; `file` names it in errors and anchors relative `tlsCACerts.path`s. */
export function parseConnectionProfile(text: string, file: string): ConnectionProfile {
  const fail = (field: string, what: string): never => {
    throw new LedgerError('CONFIG', `connection profile ${file}: ${field} ${what}; fix the profile (the format of fabric-samples' connection-org1.json)`);
  };
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(file) ? parseYaml(text, { schema: 'core', uniqueKeys: true }) : JSON.parse(text);
  } catch (err) {
    throw new LedgerError('CONFIG', `connection profile ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(doc)) return fail('(top level)', 'must be a mapping');
  const str = (v: unknown, field: string): string => (typeof v === 'string' && v.trim() !== '' ? v.trim() : fail(field, `is missing (a non-empty string expected, got ${JSON.stringify(v)})`));
  const name = typeof doc.name === 'string' ? doc.name : '';
  const orgs = isObject(doc.organizations) ? doc.organizations : fail('organizations', 'is missing (a mapping of organisation name to { mspid, peers })');
  const orgNames = Object.keys(orgs);
  if (orgNames.length === 0) fail('organizations', 'is empty');
  const client = isObject(doc.client) ? doc.client : undefined;
  const organization =
    client?.organization !== undefined
      ? str(client.organization, 'client.organization')
      : orgNames.length === 1
        ? (orgNames[0] as string)
        : fail('client.organization', `is missing and the profile has ${orgNames.length} organisations (${orgNames.join(', ')}); name the VTN's`);
  if (!isObject(orgs[organization])) fail(`organizations.${organization}`, `is missing (client.organization names it)`);
  const peersSection = isObject(doc.peers) ? doc.peers : fail('peers', 'is missing (a mapping of peer name to { url, tlsCACerts })');
  const base = dirname(resolve(file));

  const peerOf = (peerName: string, org: string, mspId: string): ProfilePeer => {
    const where = `peers.${peerName}`;
    const p = peersSection[peerName];
    if (!isObject(p)) return fail(where, `is missing (organizations.${org}.peers names it)`);
    const url = str(p.url, `${where}.url`);
    const m = /^(grpcs?):\/\/([^/\s]+:\d{1,5})\/?$/.exec(url);
    if (m === null) return fail(`${where}.url`, `must be grpcs://host:port (or grpc://host:port without TLS), got ${JSON.stringify(url)}`);
    const plaintext = m[1] === 'grpc';
    const grpc = isObject(p.grpcOptions) ? p.grpcOptions : {};
    const override = grpc['ssl-target-name-override'] ?? grpc.hostnameOverride;
    let tlsRootCertificate: string | undefined;
    if (!plaintext) {
      const tls = isObject(p.tlsCACerts) ? p.tlsCACerts : fail(`${where}.tlsCACerts`, 'is missing (pem: the PEM of the peer\'s TLS CA, or path: its file)');
      if (typeof tls.pem === 'string' && tls.pem.includes('-----BEGIN CERTIFICATE-----')) tlsRootCertificate = tls.pem;
      else if (tls.pem !== undefined) fail(`${where}.tlsCACerts.pem`, 'is not a PEM certificate');
      else {
        const path = str(tls.path, `${where}.tlsCACerts.pem or .path`);
        const full = isAbsolute(path) ? path : resolve(base, path);
        try {
          tlsRootCertificate = readFileSync(full, 'utf8');
        } catch (err) {
          return fail(`${where}.tlsCACerts.path`, `names ${full}, which cannot be read (${(err as Error).message})`);
        }
      }
    }
    return {
      name: peerName,
      organization: org,
      mspId,
      endpoint: m[2] as string,
      plaintext,
      ...(tlsRootCertificate === undefined ? {} : { tlsRootCertificate }),
      ...(typeof override === 'string' && override !== '' ? { hostnameOverride: override } : {}),
    };
  };

  const orgPeers = (org: string): ProfilePeer[] => {
    const o = orgs[org];
    if (!isObject(o)) return fail(`organizations.${org}`, 'must be a mapping with mspid and peers');
    const mspId = str(o.mspid, `organizations.${org}.mspid`);
    const list = o.peers === undefined ? [] : Array.isArray(o.peers) ? o.peers : fail(`organizations.${org}.peers`, 'must be a list of peer names');
    return list.map((n, i) => peerOf(str(n, `organizations.${org}.peers[${i}]`), org, mspId));
  };

  const own = orgPeers(organization);
  const gatewayPeer = own[0] ?? fail(`organizations.${organization}.peers`, 'is missing or empty (the VTN talks to its organisation\'s first peer)');
  const others = orgNames.filter((o) => o !== organization).flatMap(orgPeers);
  const channels = isObject(doc.channels) ? Object.keys(doc.channels) : [];
  return {
    file,
    name,
    organization,
    mspId: gatewayPeer.mspId,
    gatewayPeer,
    peers: [...own, ...others],
    ...(channels[0] === undefined ? {} : { channel: channels[0] }),
  };
}

/** Reads and parses the profile file (`.yaml`/`.yml` as YAML, anything else as JSON). */
export function readConnectionProfile(file: string): ConnectionProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LedgerError('CONFIG', `cannot read the connection profile ${file}: ${(err as Error).message}; give the network's common connection profile (connection-org1.json or .yaml)`, { cause: err });
  }
  return parseConnectionProfile(text, file);
}
