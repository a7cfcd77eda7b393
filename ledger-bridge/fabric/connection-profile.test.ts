/**
 * The connection profile and MSP folder readers with fabric-samples-shaped files written here: a
 * connection-org1.json with the PEM inline, the same profile as YAML with `tlsCACerts.path`, a
 * two-organisation profile, and the errors that name the missing field.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, KeyObject, type webcrypto } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { createScenarioIdentities } from '../../chaincode/testing/reference-scenario.ts';
import { createRootCa } from '../../certs/index.ts';
import { LedgerError } from '../errors.ts';
import { parseConnectionProfile, readConnectionProfile } from './connection-profile.ts';
import { readMspFolder } from './msp-folder.ts';

function folder(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'oadr-profile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const org1 = (peerTls: Record<string, unknown> = { pem: PEM }) => ({
  name: 'test-network-org1',
  version: '1.0.0',
  client: { organization: 'Org1', connection: { timeout: { peer: { endorser: '300' } } } },
  organizations: { Org1: { mspid: 'Org1MSP', peers: ['peer0.org1.example.com'], certificateAuthorities: ['ca.org1.example.com'] } },
  peers: { 'peer0.org1.example.com': { url: 'grpcs://localhost:7051', tlsCACerts: peerTls, grpcOptions: { 'ssl-target-name-override': 'peer0.org1.example.com', hostnameOverride: 'peer0.org1.example.com' } } },
  certificateAuthorities: { 'ca.org1.example.com': { url: 'https://localhost:7054', caName: 'ca-org1', tlsCACerts: { pem: [PEM] }, httpOptions: { verify: false } } },
});

const refused = (field: RegExp) => (err: unknown) => err instanceof LedgerError && err.code === 'CONFIG' && field.test(err.message);

test('connection-org1.json: the client org, its MSP id, its first peer as the gateway (grpcs, inline PEM, name override); no channels section', () => {
  const p = parseConnectionProfile(JSON.stringify(org1()), '/net/connection-org1.json');
  assert.equal(p.organization, 'Org1');
  assert.equal(p.mspId, 'Org1MSP');
  assert.deepEqual(p.gatewayPeer, { name: 'peer0.org1.example.com', organization: 'Org1', mspId: 'Org1MSP', endpoint: 'localhost:7051', plaintext: false, tlsRootCertificate: PEM, hostnameOverride: 'peer0.org1.example.com' });
  assert.equal(p.channel, undefined);
  assert.equal(p.peers.length, 1);
});

test('the same profile as YAML with tlsCACerts.path relative to the profile; a channels section names the channel', (t) => {
  const dir = folder(t);
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'tls', 'ca.crt'), PEM);
  writeFileSync(join(dir, 'connection-org1.yaml'), stringify({ ...org1({ path: 'tls/ca.crt' }), channels: { drchannel: { peers: { 'peer0.org1.example.com': {} } } } }));
  const p = readConnectionProfile(join(dir, 'connection-org1.yaml'));
  assert.equal(p.gatewayPeer.tlsRootCertificate, PEM);
  assert.equal(p.channel, 'drchannel');
});

test("two organisations: client.organization picks the VTN's, the other org's peers are listed after the gateway peer", () => {
  const doc = org1();
  const two = {
    ...doc,
    client: { organization: 'Org2' },
    organizations: { ...doc.organizations, Org2: { mspid: 'Org2MSP', peers: ['peer0.org2.example.com'] } },
    peers: { ...doc.peers, 'peer0.org2.example.com': { url: 'grpc://localhost:9051' } },
  };
  const p = parseConnectionProfile(JSON.stringify(two), 'two.json');
  assert.equal(p.mspId, 'Org2MSP');
  assert.deepEqual(p.gatewayPeer, { name: 'peer0.org2.example.com', organization: 'Org2', mspId: 'Org2MSP', endpoint: 'localhost:9051', plaintext: true });
  assert.deepEqual(p.peers.map((x) => x.name), ['peer0.org2.example.com', 'peer0.org1.example.com']);
  const { client: _client, ...noClient } = two;
  assert.throws(() => parseConnectionProfile(JSON.stringify(noClient), 'two.json'), refused(/client\.organization is missing and the profile has 2 organisations/));
});

test('errors name the file and the missing field', (t) => {
  const doc = org1();
  const bad = (mutate: (d: ReturnType<typeof org1>) => unknown, field: RegExp) =>
    assert.throws(() => parseConnectionProfile(JSON.stringify(mutate(structuredClone(doc))), 'p.json'), (err: unknown) => refused(field)(err) && /p\.json/.test((err as Error).message));
  bad((d) => ({ ...d, organizations: undefined }), /organizations is missing/);
  bad((d) => ({ ...d, organizations: { Org1: { peers: ['peer0.org1.example.com'] } } }), /organizations\.Org1\.mspid is missing/);
  bad((d) => ({ ...d, organizations: { Org1: { mspid: 'Org1MSP' } } }), /organizations\.Org1\.peers is missing or empty/);
  bad((d) => ({ ...d, peers: {} }), /peers\.peer0\.org1\.example\.com is missing/);
  bad((d) => ({ ...d, peers: { 'peer0.org1.example.com': { tlsCACerts: { pem: PEM } } } }), /peers\.peer0\.org1\.example\.com\.url is missing/);
  bad((d) => ({ ...d, peers: { 'peer0.org1.example.com': { url: 'https://localhost:7051', tlsCACerts: { pem: PEM } } } }), /\.url must be grpcs:\/\/host:port/);
  bad((d) => ({ ...d, peers: { 'peer0.org1.example.com': { url: 'grpcs://localhost:7051' } } }), /tlsCACerts is missing/);
  bad((d) => ({ ...d, peers: { 'peer0.org1.example.com': { url: 'grpcs://localhost:7051', tlsCACerts: { path: '/nowhere/ca.crt' } } } }), /tlsCACerts\.path names \/nowhere\/ca\.crt, which cannot be read/);
  bad((d) => ({ ...d, client: { organization: 'Org9' } }), /organizations\.Org9 is missing/);
  assert.throws(() => parseConnectionProfile('{ not json', 'p.json'), refused(/is not valid JSON/));
  assert.throws(() => readConnectionProfile(join(folder(t), 'absent.json')), refused(/cannot read the connection profile/));
});

test('MSP folder: signcerts/*.pem and keystore/<ski>_sk (SEC1 or PKCS#8); several keys → the one of the certificate; missing parts named', async (t) => {
  const { retailer } = await createScenarioIdentities();
  const dir = folder(t);
  const msp = join(dir, 'msp');
  assert.throws(() => readMspFolder(msp, 'Org1MSP'), refused(/does not exist/));
  mkdirSync(join(msp, 'signcerts'), { recursive: true });
  mkdirSync(join(msp, 'keystore'), { recursive: true });
  mkdirSync(join(msp, 'cacerts'), { recursive: true });
  writeFileSync(join(msp, 'cacerts', 'ca.pem'), (await createRootCa({ commonName: 'ca' })).certificatePem);
  assert.throws(() => readMspFolder(msp, 'Org1MSP'), refused(/nothing in signcerts\//));
  writeFileSync(join(msp, 'signcerts', 'cert.pem'), retailer.certificatePem);
  assert.throws(() => readMspFolder(msp, 'Org1MSP'), refused(/nothing in keystore\//));
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(join(msp, 'keystore', '0a1b_sk'), other);
  assert.throws(() => readMspFolder(msp, 'Org1MSP'), refused(/is not the key of the certificate/));
  writeFileSync(join(msp, 'keystore', '9f8e_sk'), KeyObject.from(retailer.privateKey as webcrypto.CryptoKey).export({ type: 'sec1', format: 'pem' }));
  const id = readMspFolder(msp, 'Org1MSP');
  assert.equal(id.mspId, 'Org1MSP');
  assert.equal(id.certificatePem, retailer.certificatePem);
  assert.match(id.privateKey as string, /BEGIN PRIVATE KEY/);
  writeFileSync(join(msp, 'signcerts', 'second.pem'), retailer.certificatePem);
  assert.throws(() => readMspFolder(msp, 'Org1MSP'), refused(/2 certificates in signcerts/));
});
