import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createFabricLedger } from '../fabric/fabric-ledger.ts';
import { runLedgerServe } from './command.ts';
import { issueClientIdentity, loadOrCreateOrgs } from '../embedded/orgs.ts';
import { tempDataDir } from '../testing/embedded.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';
import { cliClients, hangUp, reader, seekEnvelope } from '../testing/peer-cli.ts';
import type { common, orderer, peer } from '@hyperledger/fabric-protos';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

test('ledger serve: a Fabric client submits over TLS with the dev TLS CA and an identity of the served orgs; stops on abort', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const c = capture();
  const controller = new AbortController();
  t.after(() => controller.abort()); // a failed assertion does not leave the service running
  let listening!: (address: string) => void;
  const address = new Promise<string>((resolve) => (listening = resolve));
  const exit = runLedgerServe(['--data-dir', dataDir, '--port', '0', '--orderer-port', '0', '--peer', 'Org2MSP=0'], { io: c.io, signal: controller.signal, onListening: listening });
  const hostPort = await address;
  assert.match(c.out.stdout, /Fabric Gateway on 127\.0\.0\.1:\d+ \(TLS\), channel mychannel, chaincode oadr-dr/);
  const ordererAddress = /ordering service \(Broadcast, Deliver\) on (\S+)/.exec(c.out.stdout)?.[1] ?? '';
  assert.notEqual(ordererAddress, hostPort, '--orderer-port serves the ordering service on its own port');
  const org2Peer = /Peer of Org2MSP \(Gateway, Endorser, Deliver\) on (\S+)/.exec(c.out.stdout)?.[1] ?? '';
  assert.ok(![hostPort, ordererAddress, ''].includes(org2Peer), '--peer serves Org2MSP\'s peer on its own port');

  const [org1] = await loadOrCreateOrgs(join(dataDir, 'ledger', 'certs'), { createCa: createTestCa });
  assert.ok(org1);
  const operator = await issueClientIdentity(org1, 'dso', { ID: 'operator:dso' });
  const connector = await createFabricLedger({
    peerEndpoint: hostPort,
    tlsRootCertificatePath: join(dataDir, 'tls', 'ca-cert.pem'),
    hostnameOverride: 'peer0.org1.example.com',
    identity: operator,
  });
  const result = await connector.submit(operator, 'enableRetailer', ['utility:1234']);
  assert.equal(JSON.parse(result.result).retailerId, 'utility:1234');
  assert.equal((await connector.transaction(result.txId)).creatorMspId, 'Org1MSP');
  await connector.close();

  // `peer channel fetch newest -o <orderer>`: the orderer's Deliver on its port, trusted with the dev TLS CA.
  const clients = cliClients(hostPort, ordererAddress, readFileSync(join(dataDir, 'tls', 'ca-cert.pem'), 'utf8'), 'peer0.org1.example.com');
  const stream = clients.orderer.deliver();
  const next = reader<common.Envelope, orderer.DeliverResponse>(stream);
  stream.write(await seekEnvelope(operator, { start: 'newest', stop: 'newest' }));
  assert.equal((await next())?.getBlock()?.getHeader()?.getNumber(), 1);
  hangUp(stream);
  // A forged request hears FORBIDDEN alone, as from Fabric; the operator reads why on standard error.
  const other = await issueClientIdentity(org1, 'other', { ID: 'utility:5678' });
  const forged = clients.deliver.deliver();
  const nextForged = reader<common.Envelope, peer.DeliverResponse>(forged);
  forged.write(await seekEnvelope(operator, { start: 0, stop: 0, signer: other }));
  assert.equal((await nextForged())?.getStatus(), 403);
  assert.match(c.out.stderr, /deliver \(block\) ended with status=FORBIDDEN: the signature does not verify/);
  hangUp(forged);
  clients.close();

  controller.abort();
  assert.equal(await exit, 0);
  assert.match(c.out.stdout, /ledger closed/);
  assert.match(readFileSync(join(dataDir, 'tls', 'ca-cert.pem'), 'utf8'), /BEGIN CERTIFICATE/);
});

test('ledger serve: usage errors exit 2', async () => {
  let c = capture();
  assert.equal(await runLedgerServe([], { io: c.io }), 2);
  assert.match(c.out.stderr, /--data-dir DIR is required/);
  c = capture();
  assert.equal(await runLedgerServe(['--data-dir', 'x', '--port', 'seventy'], { io: c.io }), 2);
  c = capture();
  assert.equal(await runLedgerServe(['--data-dir', 'x', '--tls-cert', 'a.pem'], { io: c.io }), 2);
  assert.match(c.out.stderr, /both --tls-cert and --tls-key/);
  c = capture();
  assert.equal(await runLedgerServe(['--data-dir', 'x', '--orderer-port', '70000'], { io: c.io }), 2);
  assert.match(c.out.stderr, /--orderer-port takes a port number/);
  c = capture();
  assert.equal(await runLedgerServe(['--data-dir', 'x', '--peer', 'Org2MSP'], { io: c.io }), 2);
  assert.match(c.out.stderr, /--peer takes MSPID=PORT \(e\.g\. Org2MSP=9051\), not 'Org2MSP'/);
});
