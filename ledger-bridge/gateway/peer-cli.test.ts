/**
 * What the stock `peer` CLI does on the wire against `ledger serve` (the peer's Endorser and Deliver
 * services on one port, the orderer's Broadcast and Deliver on another, as `--orderer-port` serves
 * them), step by step as Fabric 2.5's internal/peer code does it (testing/peer-cli.ts): the binary
 * itself cannot be installed here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServiceError } from '@grpc/grpc-js';
import { common, orderer, peer } from '@hyperledger/fabric-protos';
import { RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { DELIVER_STATUS } from './deliver-messages.ts';
import { startTestGateway, TEST_PEER_HOSTNAME } from '../testing/gateway-server.ts';
import { cliClients, cliProposal, cliSignedTx, MAX_BLOCK, processProposal, reader, seekEnvelope, hangUp, type CliClients } from '../testing/peer-cli.ts';
import type { LedgerIdentity } from '../ledger.ts';
import { until } from '../../test/support/until.ts';

async function rig(t: { after(fn: () => unknown): void }) {
  const g = await startTestGateway({}, { ordererPort: 0 });
  t.after(() => g.close());
  const clients = cliClients(g.server.address, g.server.ordererAddress, g.tlsCaPem, TEST_PEER_HOSTNAME);
  t.after(() => clients.close());
  return { g, clients, ...g.embedded.identities };
}

/** `peer channel fetch <target>` (deliverclient.go): seek start = stop, read one block, drop the SUCCESS that follows. */
async function fetchBlock(stream: ReturnType<CliClients['orderer']['deliver']> | ReturnType<CliClients['deliver']['deliver']>, identity: LedgerIdentity, target: 'newest' | 'oldest' | number) {
  const next = reader<common.Envelope, orderer.DeliverResponse | peer.DeliverResponse>(stream as never);
  stream.write(await seekEnvelope(identity, { start: target, stop: target }));
  const first = await next();
  if (!first || first.hasStatus()) return { status: first?.getStatus() };
  const flushed = await next();
  return { block: first.getBlock() as common.Block, status: flushed?.getStatus() };
}

/** `peer chaincode invoke --waitForEvent` (chaincode/common.go), returning what the CLI would report. */
async function invoke(clients: CliClients, identity: LedgerIdentity, args: string[]) {
  // DeliverGroup.Connect: DeliverFiltered from newest to MaxUint64, before anything is broadcast.
  const filtered = clients.deliver.deliverFiltered();
  try {
    const nextFiltered = reader<common.Envelope, peer.DeliverResponse>(filtered);
    filtered.write(await seekEnvelope(identity, { start: 'newest', stop: MAX_BLOCK }));
    const { txId, signed } = await cliProposal(identity, 'mychannel', 'oadr-dr', args);
    const response = await processProposal(clients.endorser, signed);
    if ((response.getResponse()?.getStatus() ?? 500) >= 400) return { txId, response };
    const envelope = await cliSignedTx(identity, signed, [response]);
    // BroadcastGRPCClient.Send: one envelope, one acknowledgement.
    const broadcast = clients.orderer.broadcast();
    const nextAck = reader<common.Envelope, orderer.BroadcastResponse>(broadcast);
    broadcast.write(envelope);
    const ack = await nextAck();
    broadcast.end();
    if (ack?.getStatus() !== DELIVER_STATUS.SUCCESS) return { txId, response, ack };
    // DeliverGroup.Wait: filtered blocks until one holds the transaction.
    for (;;) {
      const answer = await nextFiltered();
      if (!answer || answer.hasStatus()) return { txId, response, ack, deliverStatus: answer?.getStatus() };
      const tx = answer.getFilteredBlock()?.getFilteredTransactionsList().find((f) => f.getTxid() === txId);
      if (tx) return { txId, response, ack, committed: { block: answer.getFilteredBlock()?.getNumber(), code: tx.getTxValidationCode() } };
    }
  } finally {
    hangUp(filtered);
  }
}

/** `peer chaincode invoke --peerAddresses …` (chaincode/common.go): the proposal to each named peer, one envelope with every endorsement, to the orderer. */
async function invokeAt(endorsers: readonly CliClients['endorser'][], ordering: CliClients, identity: LedgerIdentity, args: string[]) {
  const { txId, signed } = await cliProposal(identity, 'mychannel', 'oadr-dr', args);
  const responses = await Promise.all(endorsers.map((e) => processProposal(e, signed)));
  const broadcast = ordering.orderer.broadcast();
  const nextAck = reader<common.Envelope, orderer.BroadcastResponse>(broadcast);
  broadcast.write(await cliSignedTx(identity, signed, responses));
  const ack = await nextAck();
  broadcast.end();
  return { txId, responses, ack };
}

describe('the peer CLI against ledger serve (its wire sequence, fabric-protos clients)', () => {
  test("peer chaincode invoke --peerAddresses org1 --peerAddresses org2 under AND('Org1MSP.peer','Org2MSP.peer'): each port endorses as its org's peer, the transaction is valid; one peer's endorsement alone is a policy failure", async (t) => {
    const g = await startTestGateway({ policies: { default: "AND('Org1MSP.peer','Org2MSP.peer')" } }, { ordererPort: 0, orgPeers: [{ mspId: 'Org2MSP', port: 0 }] });
    t.after(() => g.close());
    const org2 = g.server.orgPeerAddresses.Org2MSP ?? '';
    const clients = cliClients(g.server.address, g.server.ordererAddress, g.tlsCaPem, TEST_PEER_HOSTNAME);
    const atOrg2 = cliClients(org2, g.server.ordererAddress, g.tlsCaPem, TEST_PEER_HOSTNAME);
    t.after(() => (clients.close(), atOrg2.close()));
    const { operator } = g.embedded.identities;
    const committed = async (txId: string) => {
      await until(`transaction ${txId} committed`, () => g.embedded.ledger.transaction(txId).then(() => true, () => false));
      return g.embedded.ledger.transaction(txId);
    };
    // Both peers: the caller (Org1) reaches Org1's peer on --port and Org2's on its own port.
    const both = await invokeAt([clients.endorser, atOrg2.endorser], clients, operator, ['enableRetailer', RETAILER_ID]);
    assert.equal(both.ack?.getStatus(), DELIVER_STATUS.SUCCESS);
    const valid = await committed(both.txId);
    assert.deepEqual([valid.validationCode, [...valid.endorsers].sort()], ['VALID', ['Org1MSP', 'Org2MSP']]);
    // The caller's peer alone cannot satisfy AND: committed invalid, as on a network with one peer named.
    const one = await invokeAt([clients.endorser], clients, operator, ['enableRetailer', 'utility:4242']);
    assert.equal(one.ack?.getStatus(), DELIVER_STATUS.SUCCESS);
    const invalid = await committed(one.txId);
    assert.deepEqual([invalid.validationCode, invalid.endorsers], ['ENDORSEMENT_POLICY_FAILURE', ['Org1MSP']]);
  });

  test('peer channel getinfo: qscc GetChainInfo through ProcessProposal (proposal channel empty)', async (t) => {
    const { g, clients, operator } = await rig(t);
    await g.embedded.ledger.submit(operator, 'enableRetailer', [RETAILER_ID]);
    const { signed } = await cliProposal(operator, '', 'qscc', ['GetChainInfo', 'mychannel']);
    const response = await processProposal(clients.endorser, signed);
    assert.equal(response.getResponse()?.getStatus(), 200);
    const info = common.BlockchainInfo.deserializeBinary(response.getResponse()?.getPayload_asU8() ?? new Uint8Array());
    const height = await g.embedded.ledger.height();
    assert.equal(info.getHeight(), height);
    assert.equal(Buffer.from(info.getCurrentblockhash_asU8()).toString('hex'), (await g.embedded.ledger.block(height - 1)).hash);
  });

  test('peer chaincode invoke --waitForEvent, then query: endorsed at the peer, broadcast to the orderer, seen committed on DeliverFiltered', async (t) => {
    const { g, clients, operator } = await rig(t);
    const result = await invoke(clients, operator, ['enableRetailer', RETAILER_ID]);
    assert.equal(result.ack?.getStatus(), DELIVER_STATUS.SUCCESS);
    assert.equal(result.committed?.code, peer.TxValidationCode.VALID);
    const stored = await g.embedded.ledger.transaction(result.txId);
    assert.equal(stored.blockNumber, result.committed?.block);
    assert.deepEqual([stored.fn, stored.args, stored.endorsers], ['enableRetailer', [RETAILER_ID], ['Org1MSP']]);
    // The endorsement is Org1's peer's, over the payload it returned (what the Gateway's Endorse collects).
    assert.ok(result.response.getEndorsement()?.getSignature_asU8().length);

    const { signed } = await cliProposal(operator, 'mychannel', 'oadr-dr', ['queryRetailer', RETAILER_ID]);
    const query = await processProposal(clients.endorser, signed);
    assert.ok(query.hasEndorsement(), 'peer chaincode query needs an endorsement');
    assert.equal(JSON.parse(Buffer.from(query.getResponse()?.getPayload_asU8() ?? []).toString('utf8')).retailerId, RETAILER_ID);
  });

  test('peer chaincode invoke refused by the contract: status 500 and its message, no endorsement, nothing ordered', async (t) => {
    const { g, clients, retailer } = await rig(t);
    const result = await invoke(clients, retailer, ['enableRetailer', 'utility:9999']);
    assert.equal(result.response.getResponse()?.getStatus(), 500);
    assert.match(result.response.getResponse()?.getMessage() ?? '', /ACCESS_DENIED/);
    assert.equal(result.response.hasEndorsement(), false);
    assert.equal(await g.embedded.ledger.height(), 1);
  });

  test('a proposal signed by another key is an error of ProcessProposal, as at a peer', async (t) => {
    const { clients, operator, retailer } = await rig(t);
    const { signed } = await cliProposal(operator, 'mychannel', 'oadr-dr', ['enableRetailer', RETAILER_ID], retailer);
    await assert.rejects(processProposal(clients.endorser, signed), (err: ServiceError) => err.code === 7 && /signature/.test(err.details));
  });

  test('Broadcast: a forged signature is FORBIDDEN, a malformed envelope BAD_REQUEST; each ends its stream and orders nothing', async (t) => {
    const { g, clients, operator, retailer } = await rig(t);
    const { signed } = await cliProposal(operator, 'mychannel', 'oadr-dr', ['enableRetailer', RETAILER_ID]);
    const response = await processProposal(clients.endorser, signed);
    const forged = await cliSignedTx(retailer, signed, [response]);
    const junk = new common.Envelope();
    junk.setPayload(Uint8Array.from([0xff, 0xff, 0xff]));
    for (const [envelope, status] of [[forged, DELIVER_STATUS.FORBIDDEN], [junk, DELIVER_STATUS.BAD_REQUEST]] as const) {
      const stream = clients.orderer.broadcast();
      const next = reader<common.Envelope, orderer.BroadcastResponse>(stream);
      stream.write(envelope);
      const ack = await next();
      assert.equal(ack?.getStatus(), status);
      assert.ok((ack?.getInfo() ?? '').length > 0, 'the refusal says why');
      assert.equal(await next(), undefined, 'the orderer ends the stream');
    }
    assert.equal(await g.embedded.ledger.height(), 1);
  });

  test('peer channel fetch newest|oldest|N from the orderer and from the peer: the stored blocks', async (t) => {
    const { g, clients, operator } = await rig(t);
    await g.embedded.ledger.submit(operator, 'enableRetailer', [RETAILER_ID]);
    await g.embedded.ledger.submit(operator, 'enableRetailer', ['utility:4242']);
    for (const [where, open] of [['orderer', () => clients.orderer.deliver()], ['peer', () => clients.deliver.deliver()]] as const) {
      for (const [target, expected] of [['newest', 2], ['oldest', 0], [1, 1]] as const) {
        const stream = open();
        const { block, status } = await fetchBlock(stream, operator, target);
        hangUp(stream);
        assert.equal(status, DELIVER_STATUS.SUCCESS, `${where} ${target}`);
        assert.equal(block?.getHeader()?.getNumber(), expected, `${where} ${target}`);
        assert.deepEqual(Buffer.from(block?.serializeBinary() ?? []), Buffer.from((await g.embedded.ledger.blockBytes(expected)) ?? []), `${where} ${target}`);
      }
    }
  });
});
