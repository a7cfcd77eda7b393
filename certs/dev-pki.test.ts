import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { certificateFingerprint } from '../oadr/index.ts';
import { describePki, formatPkiSummary, initPki, issueIdentity, type PkiSummary } from './dev-pki.ts';
import { pkiLayout } from './layout.ts';

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  walk(root);
  return out.sort();
}

const OPENADR_FILES = [
  'openadr/ca-bundle.pem',
  ...['ecc', 'rsa'].flatMap((p) => [`openadr/${p}/intermediate-ca/cert.pem`, `openadr/${p}/intermediate-ca/key.pem`, `openadr/${p}/root-ca/cert.pem`, `openadr/${p}/root-ca/key.pem`]),
  ...['ven/ven-ecc', 'ven/ven-rsa', 'vtn/vtn-ecc', 'vtn/vtn-rsa'].flatMap((d) => ['cert.pem', 'chain.pem', 'fingerprint.txt', 'key.pem'].map((f) => `openadr/${d}/${f}`)),
];

function mspFiles(prefix: string, domain: string, signing: boolean): string[] {
  const files = [`${prefix}/cacerts/ca.${domain}-cert.pem`, `${prefix}/config.yaml`, `${prefix}/tlscacerts/tlsca.${domain}-cert.pem`];
  if (signing) files.push(`${prefix}/keystore/priv_sk`, `${prefix}/signcerts/cert.pem`);
  return files;
}

function fabricFiles(domain: string, users: string[]): string[] {
  const o = `fabric/peerOrganizations/${domain}`;
  return [
    `${o}/ca/ca.${domain}-cert.pem`,
    `${o}/ca/priv_sk`,
    `${o}/tlsca/priv_sk`,
    `${o}/tlsca/tlsca.${domain}-cert.pem`,
    ...mspFiles(`${o}/msp`, domain, false),
    ...mspFiles(`${o}/peers/peer0.${domain}/msp`, domain, true),
    `${o}/peers/peer0.${domain}/tls/ca.crt`,
    `${o}/peers/peer0.${domain}/tls/server.crt`,
    `${o}/peers/peer0.${domain}/tls/server.key`,
    ...users.flatMap((u) => mspFiles(`${o}/users/${u}@${domain}/msp`, domain, true)),
  ];
}

const EXPECTED_TREE = [
  ...OPENADR_FILES,
  ...fabricFiles('org1.example.com', ['Admin', 'dso', 'retailer']),
  ...fabricFiles('org2.example.com', ['Admin', 'customer_1', 'customer_2']),
  'pki.json',
].sort();

let dir: string;
let summary: PkiSummary;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certs-init-'));
  const umask = process.umask(0o000); // permissions must not depend on the umask
  try {
    summary = await initPki({ dir });
  } finally {
    process.umask(umask);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('init writes the whole tree, nothing more', () => {
  assert.equal(summary.created, true);
  assert.deepEqual(listTree(dir), EXPECTED_TREE);
  const manifest = JSON.parse(readFileSync(pkiLayout.manifest(dir), 'utf8')) as { format: string; version: number };
  assert.equal(manifest.format, 'oadr-ledger-dev-pki');
  assert.equal(manifest.version, 1);
});

test('every private key is 0600 and every certificate 0644, even with umask 0', () => {
  const files = listTree(dir);
  const keys = files.filter((f) => /(key\.pem|priv_sk|server\.key)$/.test(f));
  assert.equal(keys.length, 8 + 2 * (2 + 2 + 3)); // OpenADR 4 CAs + 4 leaves; per org CA, TLS CA, peer (MSP + TLS), 3 users
  for (const f of files) {
    const mode = statSync(join(dir, f)).mode & 0o777;
    assert.equal(mode, keys.includes(f) ? 0o600 : 0o644, `${f} has mode ${mode.toString(8)}`);
  }
  for (const f of keys) assert.match(readFileSync(join(dir, f), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/, `${f} is PKCS#8`);
});

test('every OpenADR certificate chains to its profile’s root through the intermediate; the bundle holds both roots', () => {
  const bundle = readFileSync(pkiLayout.caBundle(dir), 'utf8');
  for (const profile of ['rsa', 'ecc'] as const) {
    const root = new X509Certificate(readFileSync(join(pkiLayout.openadrRootCa(dir, profile), 'cert.pem')));
    const inter = new X509Certificate(readFileSync(join(pkiLayout.openadrIntermediateCa(dir, profile), 'cert.pem')));
    assert.ok(bundle.includes(root.toString()));
    assert.ok(root.verify(root.publicKey) && root.ca);
    assert.ok(inter.checkIssued(root) && inter.verify(root.publicKey) && inter.ca);
    for (const role of ['vtn', 'ven'] as const) {
      const d = pkiLayout.openadrIdentity(dir, role, `${role}-${profile}`);
      const leaf = new X509Certificate(readFileSync(join(d, 'cert.pem')));
      assert.ok(leaf.checkIssued(inter) && leaf.verify(inter.publicKey), `${role}-${profile} issued by the ${profile} intermediate`);
      assert.equal(readFileSync(join(d, 'chain.pem'), 'utf8'), leaf.toString() + inter.toString());
      assert.equal(leaf.publicKey.asymmetricKeyType, profile === 'rsa' ? 'rsa' : 'ec');
    }
  }
});

test('§10.5.1 each VEN’s fingerprint in the summary and in fingerprint.txt is certificateFingerprint of its certificate', () => {
  const vens = summary.openadr.filter((i) => i.role === 'ven');
  assert.deepEqual(vens.map((v) => `${v.name}/${v.profile}`), ['ven-ecc/ecc', 'ven-rsa/rsa']);
  const text = formatPkiSummary(summary);
  for (const v of vens) {
    const pem = readFileSync(join(v.dir, 'cert.pem'), 'utf8');
    assert.equal(v.fingerprint, certificateFingerprint(pem));
    assert.match(v.fingerprint, /^([0-9A-F]{2}:){9}[0-9A-F]{2}$/);
    assert.equal(readFileSync(join(v.dir, 'fingerprint.txt'), 'utf8'), `${v.fingerprint}\n`);
    assert.ok(text.includes(`fingerprint ${v.fingerprint}`), 'the summary prints it');
  }
});

test('init is idempotent: a second run changes nothing and describes the same PKI; --force replaces it', async () => {
  const before = new Map(listTree(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  const again = await initPki({ dir });
  assert.equal(again.created, false);
  assert.deepEqual(again.openadr, summary.openadr);
  for (const [f, content] of before) assert.equal(readFileSync(join(dir, f), 'utf8'), content, `${f} untouched`);
  assert.match(formatPkiSummary(again), /already exists/);

  const other = mkdtempSync(join(tmpdir(), 'certs-force-'));
  try {
    await initPki({ dir: other });
    writeFileSync(join(other, 'keep.txt'), 'mine');
    const first = describePki(other).openadr.map((i) => i.fingerprint);
    const forced = await initPki({ dir: other, force: true });
    assert.equal(forced.created, true);
    assert.notDeepEqual(forced.openadr.map((i) => i.fingerprint), first);
    assert.equal(readFileSync(join(other, 'keep.txt'), 'utf8'), 'mine', 'force touches only the PKI’s own entries');
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('an interrupted init (folders, no pki.json) is reported, not silently mixed', async () => {
  const other = mkdtempSync(join(tmpdir(), 'certs-partial-'));
  try {
    mkdirSync(join(other, 'openadr'));
    await assert.rejects(initPki({ dir: other }), { code: 'PKI_INCOMPLETE' });
    await assert.rejects(issueIdentity({ dir: other, kind: 'ven', name: 'v' }), { code: 'PKI_NOT_FOUND' });
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('certs issue: a VEN per profile from the right intermediate, a VTN with extra SANs; names are checked', async () => {
  const ven = await issueIdentity({ dir, kind: 'ven', name: 'ven-7', profile: 'rsa' });
  const cert = new X509Certificate(ven.certificatePem);
  const inter = new X509Certificate(readFileSync(join(pkiLayout.openadrIntermediateCa(dir, 'rsa'), 'cert.pem')));
  assert.ok(cert.checkIssued(inter) && cert.verify(inter.publicKey));
  assert.equal(ven.fingerprint, certificateFingerprint(cert));
  assert.equal(statSync(join(ven.dir, 'key.pem')).mode & 0o777, 0o600);
  const vtn = await issueIdentity({ dir, kind: 'vtn', name: 'vtn-lab', dnsNames: ['vtn.lab.example'], ipAddresses: ['10.0.0.5'] });
  assert.equal(new X509Certificate(vtn.certificatePem).subjectAltName, 'DNS:vtn.lab.example, IP Address:10.0.0.5');
  assert.ok(describePki(dir).openadr.some((i) => i.name === 'ven-7' && i.profile === 'rsa'));
  await assert.rejects(issueIdentity({ dir, kind: 'ven', name: 'ven-7' }), { code: 'IDENTITY_EXISTS' });
  const replaced = await issueIdentity({ dir, kind: 'ven', name: 'ven-7', force: true });
  assert.notEqual(replaced.fingerprint, ven.fingerprint);
  await assert.rejects(issueIdentity({ dir, kind: 'ven', name: '../escape' }), { code: 'INVALID_OPTIONS' });
  await assert.rejects(issueIdentity({ dir, kind: 'ven', name: 'v', attrs: { ID: 'x' } }), { code: 'INVALID_OPTIONS' });
  assert.equal(existsSync(join(dir, 'openadr', 'escape')), false);
});
