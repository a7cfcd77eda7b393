/**
 * The Gateway gRPC service driven by a raw gRPC client (the generated `gateway.GatewayClient` of
 * @hyperledger/fabric-protos, no fabric-gateway library): what it refuses and how it answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { EndorseError, GatewayError, hash, signers } from '@hyperledger/fabric-gateway';
import { common, gateway, google, orderer, peer } from '@hyperledger/fabric-protos';
import { RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { keyObjectOf } from '../fabric/fabric-ledger.ts';
import { buildProposedTransaction } from '../fabric/fabric-proposal.ts';
import { serializeIdentity } from '../fabric/fabric-proposal.ts';
import { ERROR_DETAIL_TYPE_URL } from './status.ts';
import { startTestGateway, TEST_PEER_HOSTNAME, type TestGateway } from '../testing/gateway-server.ts';
import type { LedgerIdentity } from '../ledger.ts';

type Client = InstanceType<typeof gateway.GatewayClient>;

function rawClient(g: TestGateway): Client {
  return new gateway.GatewayClient(g.server.address, credentials.createSsl(Buffer.from(g.tlsCaPem)), { 'grpc.ssl_target_name_override': TEST_PEER_HOSTNAME });
}

function sign(identity: LedgerIdentity, data: Uint8Array): Promise<Uint8Array> {
  return signers.newPrivateKeySigner(keyObjectOf(identity))(hash.sha256(data));
}

function call<Req, Res>(fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res?: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, new Metadata(), (err, res) => (err ? reject(err) : resolve(res as Res))));
}

function detailsOf(err: ServiceError): gateway.ErrorDetail[] {
  const [bin] = err.metadata.get('grpc-status-details-bin');
  if (!bin) return [];
  return google.rpc.Status.deserializeBinary(bin as Buffer)
    .getDetailsList()
    .map((any) => {
      assert.equal(any.getTypeUrl(), ERROR_DETAIL_TYPE_URL);
      return gateway.ErrorDetail.deserializeBinary(any.getValue_asU8());
    });
}

async function signedProposal(g: TestGateway, identity: LedgerIdentity, args: string[], signer: LedgerIdentity = identity) {
  const built = buildProposedTransaction({ channel: 'mychannel', chaincodeName: 'oadr-dr', mspId: identity.mspId, certificatePem: identity.certificatePem, args, timestamp: g.now() });
  const proposed = gateway.ProposedTransaction.deserializeBinary(built.bytes);
  const signed = proposed.getProposal() as peer.SignedProposal;
  signed.setSignature(await sign(signer, signed.getProposalBytes_asU8()));
  return { txId: built.txId, signed };
}

function endorseRequest(txId: string, signed: peer.SignedProposal): gateway.EndorseRequest {
  const request = new gateway.EndorseRequest();
  request.setTransactionId(txId);
  request.setChannelId('mychannel');
  request.setProposedTransaction(signed);
  return request;
}

describe('Gateway service, raw gRPC client', () => {
  test('a proposal signed by another key is refused: PERMISSION_DENIED with the peer detail, nothing endorsed', async (t) => {
    const g = await startTestGateway();
    t.after(() => g.close());
    const client = rawClient(g);
    t.after(() => client.close());
    const { operator, retailer } = g.embedded.identities;
    const { txId, signed } = await signedProposal(g, operator, ['enableRetailer', RETAILER_ID], retailer);
    await assert.rejects(call(client.endorse.bind(client), endorseRequest(txId, signed)), (err: ServiceError) => {
      assert.equal(err.code, 7 /* PERMISSION_DENIED */);
      const [detail, ...more] = detailsOf(err);
      assert.equal(more.length, 0);
      assert.match(detail?.getMessage() ?? '', /signature does not verify/);
      assert.equal(detail?.getAddress(), g.server.address);
      return true;
    });
    const evaluate = new gateway.EvaluateRequest();
    evaluate.setChannelId('mychannel');
    evaluate.setProposedTransaction(signed);
    await assert.rejects(call(client.evaluate.bind(client), evaluate), (err: ServiceError) => err.code === 7);
    // A byte flipped in a correctly signed proposal fails too.
    const good = await signedProposal(g, operator, ['enableRetailer', RETAILER_ID]);
    const tampered = Buffer.from(good.signed.getProposalBytes_asU8());
    tampered[tampered.length - 2] = (tampered[tampered.length - 2] as number) ^ 0x01;
    good.signed.setProposalBytes(tampered);
    await assert.rejects(call(client.endorse.bind(client), endorseRequest(good.txId, good.signed)), (err: ServiceError) => err.code === 7 || err.code === 10);
    assert.equal(await g.embedded.ledger.height(), 1, 'only the genesis block');
  });

  test('endorse → sign → submit → commit status with a well-signed client; tampered envelope and commit status signatures are refused', async (t) => {
    const g = await startTestGateway();
    t.after(() => g.close());
    const client = rawClient(g);
    t.after(() => client.close());
    const { operator, retailer } = g.embedded.identities;
    const { txId, signed } = await signedProposal(g, operator, ['enableRetailer', RETAILER_ID]);
    const endorsed = await call<gateway.EndorseRequest, gateway.EndorseResponse>(client.endorse.bind(client), endorseRequest(txId, signed));
    const envelope = endorsed.getPreparedTransaction() as common.Envelope;
    assert.equal(envelope.getSignature_asU8().length, 0, 'the prepared transaction is for the client to sign');
    const header = common.Payload.deserializeBinary(envelope.getPayload_asU8()).getHeader() as common.Header;
    assert.equal(common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getTxId(), txId);

    const submit = new gateway.SubmitRequest();
    submit.setTransactionId(txId);
    submit.setChannelId('mychannel');
    envelope.setSignature(await sign(retailer, envelope.getPayload_asU8()));
    submit.setPreparedTransaction(envelope);
    await assert.rejects(call(client.submit.bind(client), submit), (err: ServiceError) => {
      const [detail] = detailsOf(err);
      assert.equal(err.code, 7);
      assert.match(detail?.getMessage() ?? '', /status=FORBIDDEN/);
      assert.equal(detail?.getMspId(), 'Org1MSP', "the ordering service's MSP id");
      return true;
    });
    envelope.setSignature(await sign(operator, envelope.getPayload_asU8()));
    await call(client.submit.bind(client), submit);

    const statusRequest = new gateway.CommitStatusRequest();
    statusRequest.setChannelId('mychannel');
    statusRequest.setTransactionId(txId);
    statusRequest.setIdentity(serializeIdentity(operator.mspId, operator.certificatePem));
    const signedStatus = new gateway.SignedCommitStatusRequest();
    signedStatus.setRequest(statusRequest.serializeBinary());
    signedStatus.setSignature(await sign(retailer, statusRequest.serializeBinary()));
    await assert.rejects(call(client.commitStatus.bind(client), signedStatus), (err: ServiceError) => err.code === 7);
    signedStatus.setSignature(await sign(operator, statusRequest.serializeBinary()));
    const status = await call<gateway.SignedCommitStatusRequest, gateway.CommitStatusResponse>(client.commitStatus.bind(client), signedStatus);
    assert.equal(status.getResult(), peer.TxValidationCode.VALID);
    assert.equal(status.getBlockNumber(), 1);
  });

  test('chaincode events need a valid signature; a stream from block 0 delivers the committed event', async (t) => {
    const g = await startTestGateway();
    t.after(() => g.close());
    const client = rawClient(g);
    t.after(() => client.close());
    const { operator, retailer } = g.embedded.identities;
    const committed = await g.embedded.ledger.submit(operator, 'enableRetailer', [RETAILER_ID]);
    const request = new gateway.ChaincodeEventsRequest();
    request.setChannelId('mychannel');
    request.setChaincodeId('oadr-dr');
    request.setIdentity(serializeIdentity(operator.mspId, operator.certificatePem));
    const start = new orderer.SeekPosition();
    const specified = new orderer.SeekSpecified();
    specified.setNumber(0);
    start.setSpecified(specified);
    request.setStartPosition(start);
    const read = async (signer: LedgerIdentity) => {
      const signedRequest = new gateway.SignedChaincodeEventsRequest();
      signedRequest.setRequest(request.serializeBinary());
      signedRequest.setSignature(await sign(signer, request.serializeBinary()));
      const stream = client.chaincodeEvents(signedRequest);
      try {
        for await (const response of stream as AsyncIterable<gateway.ChaincodeEventsResponse>) return response;
      } finally {
        stream.cancel();
      }
      return undefined;
    };
    await assert.rejects(read(retailer), (err: ServiceError) => err.code === 7);
    const response = await read(operator);
    assert.equal(response?.getBlockNumber(), committed.blockNumber);
    assert.deepEqual(response?.getEventsList().map((e) => [e.getTxId(), e.getChaincodeId()]), [[committed.txId, 'oadr-dr']]);
  });

  test('endorsement and evaluation failures carry each peer\'s MSP id and address in their details, as a peer\'s gateway sends them', async (t) => {
    const g = await startTestGateway();
    t.after(() => g.close());
    const contract = g.fabricGateway(g.embedded.identities.retailer).getNetwork('mychannel').getContract('oadr-dr');
    const detailsOfError = (err: unknown) => (err as GatewayError).details.map((d) => [d.mspId, d.address, /chaincode response 500, /.test(d.message)]);
    // The gateway plans the endorsers itself (no endorsing organisations given): one peer for enableRetailer…
    await assert.rejects(contract.submitTransaction('enableRetailer', 'utility:9999'), (err: unknown) => {
      assert.ok(err instanceof EndorseError);
      assert.deepEqual(detailsOfError(err), [['Org1MSP', g.server.address, true]]);
      return true;
    });
    // …both orgs' peers for a flexibility claim (AND), each refusing.
    await assert.rejects(contract.submitTransaction('submitFlexibility'), (err: unknown) => {
      assert.deepEqual(detailsOfError(err), [['Org1MSP', g.server.address, true], ['Org2MSP', g.server.address, true]]);
      return true;
    });
    await assert.rejects(contract.evaluateTransaction('queryRetailer', 'utility:0000'), (err: unknown) => {
      assert.deepEqual(detailsOfError(err), [['Org1MSP', g.server.address, true]]);
      return true;
    });
  });
});
