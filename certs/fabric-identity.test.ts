/**
 * Fabric identities from `certs init` / `certs issue` as a Fabric peer's chaincode sees them:
 * fabric-shim's own ClientIdentity reads the MSP id and the thesis attributes (listing 5.1), and the
 * MSP folders have the layout and config.yaml Fabric's tools read.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEV_CUSTOMERS, DEV_RETAILER_ID, initPki, issueIdentity } from './dev-pki.ts';
import { decodeFabricAttributes, encodeFabricAttributes, FABRIC_ATTRS_OID } from './fabric-attributes.ts';
import { FABRIC_ORGS, pkiLayout } from './layout.ts';
import { readMsp, renderMspConfig } from './msp.ts';
import * as x509 from './x509.ts';

interface ShimClientIdentity {
  getMSPID(): string;
  getID(): string;
  getAttributeValue(name: string): string | null;
}
const require = createRequire(import.meta.url);
const { ClientIdentity } = require('fabric-shim') as { ClientIdentity: new (stub: unknown) => ShimClientIdentity };

function clientIdentity(mspid: string, pem: string): ShimClientIdentity {
  return new ClientIdentity({ getCreator: () => ({ mspid, idBytes: Buffer.from(pem) }), getChannelID: () => 'c', getTxID: () => 't' });
}

/** A reader for the small YAML subset config.yaml uses: nested `key: value` maps by two-space indentation. */
function readYamlMap(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const stack: { indent: number; map: Record<string, unknown> }[] = [{ indent: -1, map: root }];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const m = /^( *)([A-Za-z]+):(?: (.*))?$/.exec(line);
    assert.ok(m, `not a key: value line: ${JSON.stringify(line)}`);
    const indent = m[1]!.length;
    while (stack.length > 1 && stack.at(-1)!.indent >= indent) stack.pop();
    const parent = stack.at(-1)!.map;
    if (m[3] === undefined) {
      const child: Record<string, unknown> = {};
      parent[m[2]!] = child;
      stack.push({ indent, map: child });
    } else {
      parent[m[2]!] = m[3] === 'true' ? true : m[3] === 'false' ? false : m[3];
    }
  }
  return root;
}

let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certs-fabric-'));
  await initPki({ dir });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('fabric-shim ClientIdentity reads ID, IDprovider and the default hf.* attributes of a customer, and its MSP id', () => {
  const org = FABRIC_ORGS.Org2;
  for (const customer of DEV_CUSTOMERS) {
    const msp = readMsp(join(pkiLayout.fabricUser(dir, org, customer.name), 'msp'));
    const cid = clientIdentity(org.mspId, msp.signCertificatePem!);
    assert.equal(cid.getMSPID(), 'Org2MSP');
    assert.equal(cid.getAttributeValue('ID'), customer.meter);
    assert.equal(cid.getAttributeValue('IDprovider'), DEV_RETAILER_ID);
    assert.equal(cid.getAttributeValue('hf.EnrollmentID'), customer.name);
    assert.equal(cid.getAttributeValue('hf.Type'), 'client');
    assert.equal(cid.getAttributeValue('hf.Affiliation'), 'org2');
    assert.equal(cid.getAttributeValue('nope'), null);
    assert.equal(cid.getID(), `x509::/O=org2.example.com/OU=client/OU=org2/CN=${customer.name}::/O=org2.example.com/CN=ca.org2.example.com`);
  }
  const retailer = readMsp(join(pkiLayout.fabricUser(dir, FABRIC_ORGS.Org1, 'retailer'), 'msp'));
  const cid = clientIdentity('Org1MSP', retailer.signCertificatePem!);
  assert.equal(cid.getAttributeValue('ID'), DEV_RETAILER_ID);
  assert.equal(cid.getAttributeValue('IDprovider'), null);
});

test('the attribute extension is Fabric CA’s: OID 1.2.3.4.5.6.7.8.1, non-critical, raw sorted JSON ', () => {
  const pem = readFileSync(join(pkiLayout.fabricUser(dir, FABRIC_ORGS.Org2, 'customer_1'), 'msp', 'signcerts', 'cert.pem'), 'utf8');
  const ext = new x509.X509Certificate(pem).getExtension(FABRIC_ATTRS_OID);
  assert.ok(ext);
  assert.equal(ext.critical, false);
  const json = Buffer.from(ext.value).toString('utf8');
  assert.equal(json, '{"attrs":{"ID":"smartmeter:20360162","IDprovider":"utility:1234","hf.Affiliation":"org2","hf.EnrollmentID":"customer_1","hf.Type":"client"}}');
  const attrs = { 'hf.Type': 'client', IDprovider: 'utility:1234', ID: 'smartmeter:1', 'hf.EnrollmentID': 'x', 'hf.Affiliation': '' };
  assert.equal(Buffer.from(encodeFabricAttributes(attrs)).toString(), '{"attrs":{"ID":"smartmeter:1","IDprovider":"utility:1234","hf.Affiliation":"","hf.EnrollmentID":"x","hf.Type":"client"}}');
  assert.deepEqual(decodeFabricAttributes(encodeFabricAttributes(attrs)), attrs);
  assert.equal(decodeFabricAttributes(new TextEncoder().encode('{"attrs":[1]}')), undefined);
  assert.equal(decodeFabricAttributes(new Uint8Array([0xff])), undefined);
});

test('NodeOUs: peers and admins carry their OU first (clients: see getID above); every Fabric certificate chains to its org CA', () => {
  for (const org of Object.values(FABRIC_ORGS)) {
    const ca = new X509Certificate(readFileSync(join(pkiLayout.fabricCa(dir, org), pkiLayout.fabricCaCertFile(org, false))));
    const tlsCa = new X509Certificate(readFileSync(join(pkiLayout.fabricTlsCa(dir, org), pkiLayout.fabricCaCertFile(org, true))));
    const cases: [string, string][] = [
      [join(pkiLayout.fabricPeer(dir, org, 'peer0'), 'msp'), 'peer'],
      [join(pkiLayout.fabricUser(dir, org, 'Admin'), 'msp'), 'admin'],
    ];
    for (const [mspDir, ou] of cases) {
      const msp = readMsp(mspDir);
      const cert = new X509Certificate(msp.signCertificatePem!);
      assert.equal(/^OU=(.*)$/m.exec(cert.subject)?.[1], ou);
      assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), `${mspDir} chains to ${org.domain}'s CA`);
      assert.ok(cert.checkPrivateKey(createPrivateKey(msp.privateKeyPem!)));
      assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      assert.deepEqual(msp.caCertificatesPem, [ca.toString()]);
      assert.deepEqual(msp.tlsCaCertificatesPem, [tlsCa.toString()]);
    }
    const tlsDir = join(pkiLayout.fabricPeer(dir, org, 'peer0'), 'tls');
    const server = new X509Certificate(readFileSync(join(tlsDir, 'server.crt')));
    assert.ok(server.checkIssued(tlsCa) && server.verify(tlsCa.publicKey), 'peer TLS certificate from the TLS CA');
    assert.equal(server.checkHost(`peer0.${org.domain}`), `peer0.${org.domain}`);
    assert.equal(readFileSync(join(tlsDir, 'ca.crt'), 'utf8'), tlsCa.toString());
  }
});

test('config.yaml enables NodeOUs and pins each OU identifier to the CA certificate in cacerts/', () => {
  for (const mspDir of [pkiLayout.fabricOrgMsp(dir, FABRIC_ORGS.Org1), join(pkiLayout.fabricUser(dir, FABRIC_ORGS.Org2, 'customer_1'), 'msp')]) {
    const msp = readMsp(mspDir);
    const config = readYamlMap(msp.configYaml!) as { NodeOUs: Record<string, unknown> };
    assert.equal(config.NodeOUs.Enable, true);
    for (const [key, ou] of [['ClientOUIdentifier', 'client'], ['PeerOUIdentifier', 'peer'], ['AdminOUIdentifier', 'admin'], ['OrdererOUIdentifier', 'orderer']] as const) {
      const id = config.NodeOUs[key] as Record<string, string>;
      assert.equal(id.OrganizationalUnitIdentifier, ou);
      const pinned = readFileSync(join(mspDir, id.Certificate!), 'utf8');
      assert.equal(pinned, msp.caCertificatesPem[0], `${key} points at the CA certificate`);
    }
  }
  // The org's verifying MSP has no signing identity.
  const orgMsp = readMsp(pkiLayout.fabricOrgMsp(dir, FABRIC_ORGS.Org1));
  assert.equal(orgMsp.signCertificatePem, undefined);
  assert.equal(orgMsp.privateKeyPem, undefined);
  assert.match(renderMspConfig('intermediatecerts/x.pem'), /^ {4}Certificate: intermediatecerts\/x\.pem$/m);
});

test('certs issue adds a customer with its own attributes that ClientIdentity reads; Org1 admin and peer too', async () => {
  const issued = await issueIdentity({ dir, kind: 'fabric-client', name: 'customer_9', attrs: { ID: 'smartmeter:99', IDprovider: 'utility:5678' } });
  assert.equal(issued.mspId, 'Org2MSP');
  const cid = clientIdentity(issued.mspId!, readMsp(issued.mspDir!).signCertificatePem!);
  assert.equal(cid.getAttributeValue('ID'), 'smartmeter:99');
  assert.equal(cid.getAttributeValue('IDprovider'), 'utility:5678');
  const peer = await issueIdentity({ dir, kind: 'fabric-peer', name: 'peer1', org: 'Org1' });
  assert.equal(peer.dir, pkiLayout.fabricPeer(dir, FABRIC_ORGS.Org1, 'peer1'));
  assert.equal(clientIdentity('Org1MSP', peer.certificatePem).getAttributeValue('hf.Type'), 'peer');
  await assert.rejects(issueIdentity({ dir, kind: 'fabric-admin', name: 'x', profile: 'rsa' }), { code: 'INVALID_OPTIONS' });
  await assert.rejects(issueIdentity({ dir, kind: 'fabric-client', name: 'customer_9' }), { code: 'IDENTITY_EXISTS' });
});

test('readMsp refuses a folder without cacerts', () => {
  assert.throws(() => readMsp(join(dir, 'openadr')), { code: 'INVALID_MSP' });
});
