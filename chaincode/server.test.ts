/**
 * The chaincode server against a peer played by the test: the test dials it over gRPC as a Fabric
 * peer dials chaincode-as-a-service (`protos.Chaincode/Connect`), takes its REGISTER, answers
 * REGISTERED and READY, sends TRANSACTION messages carrying real signed proposals, serves the
 * GET_STATE / PUT_STATE requests the contract makes from an in-memory world state, and reads the
 * COMPLETED that ends each transaction (status 200 with the result, or 500 with the contract's error).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import { addDaysUtc, at, createScenarioIdentities, EVENT_DAY } from './testing/reference-scenario.ts';
import { startChaincodeServer } from './server.ts';
import { computeTxId, createSignedProposal, decodePolicy, formatPolicy, serializeIdentity, signerOf, timestampOf } from '../ledger-bridge/index.ts';
import type { TestIdentity } from './testing/index.ts';

const Type = peer.ChaincodeMessage.Type;
type Message = peer.ChaincodeMessage;
const CHANNEL = 'mychannel';
const CCID = 'oadr-dr_1.0:0123abcd';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The peer's end of one chaincode stream: messages in arrival order, awaited one at a time. */
function peerStream(stream: ClientDuplexStream<Message, Message>) {
  const inbox: Message[] = [];
  const waiting: ((m: Message) => void)[] = [];
  let failure: Error | undefined;
  stream.on('data', (m: Message) => {
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  stream.on('error', (err: Error) => { failure = err; });
  return {
    next(): Promise<Message> {
      if (failure) return Promise.reject(failure);
      const m = inbox.shift();
      return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
    },
    send(type: (typeof Type)[keyof typeof Type], fields: { txid?: string; payload?: Uint8Array; proposal?: peer.SignedProposal } = {}): void {
      const m = new peer.ChaincodeMessage();
      m.setType(type);
      m.setChannelId(CHANNEL);
      if (fields.txid !== undefined) m.setTxid(fields.txid);
      if (fields.payload !== undefined) m.setPayload(fields.payload);
      if (fields.proposal !== undefined) m.setProposal(fields.proposal);
      stream.write(m);
    },
  };
}

test('the chaincode server speaks the chaincode protocol: REGISTER, then transactions with state requests ending in COMPLETED', async (t) => {
  const id = await createScenarioIdentities();
  const port = await freePort();
  const running = await startChaincodeServer({ address: `127.0.0.1:${port}`, ccid: CCID });
  const client = new peer.ChaincodeClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const stream = client.connect() as ClientDuplexStream<Message, Message>;
  t.after(() => {
    stream.end();
    client.close();
    running.close();
  });
  const cc = peerStream(stream);

  // The chaincode registers under its package id; the peer acknowledges and says it is ready.
  const register = await cc.next();
  assert.equal(register.getType(), Type.REGISTER);
  assert.equal(peer.ChaincodeID.deserializeBinary(register.getPayload_asU8()).getName(), CCID);
  cc.send(Type.REGISTERED);
  cc.send(Type.READY);

  const world = new Map<string, Uint8Array>();
  const metadata = new Map<string, Uint8Array>();
  const requests: string[] = [];
  let nonceCounter = 0;
  /** One transaction: TRANSACTION out, state requests served, the final message returned. */
  async function transact(identity: TestIdentity, args: readonly string[]): Promise<Message> {
    const creator = serializeIdentity(identity.mspId, identity.certificatePem);
    const nonce = createHash('sha256').update(`nonce-${++nonceCounter}`).digest().subarray(0, 24);
    const txId = computeTxId(nonce, creator);
    const proposal = await createSignedProposal({
      channelId: CHANNEL, chaincodeName: 'oadr-dr', txId, args, creator, nonce,
      timestamp: timestampOf(at(addDaysUtc(EVENT_DAY, -1)).timestamp),
      sign: signerOf(identity),
    });
    const input = new peer.ChaincodeInput();
    input.setArgsList(args.map((a) => Buffer.from(a, 'utf8')));
    cc.send(Type.TRANSACTION, { txid: txId, payload: input.serializeBinary(), proposal });
    for (;;) {
      const m = await cc.next();
      assert.equal(m.getTxid(), txId, 'every message of the transaction carries its id');
      assert.equal(m.getChannelId(), CHANNEL);
      switch (m.getType()) {
        case Type.GET_STATE: {
          const key = peer.GetState.deserializeBinary(m.getPayload_asU8()).getKey();
          requests.push(`GET ${key}`);
          cc.send(Type.RESPONSE, { txid: txId, payload: world.get(key) ?? new Uint8Array(0) });
          break;
        }
        case Type.PUT_STATE: {
          const put = peer.PutState.deserializeBinary(m.getPayload_asU8());
          requests.push(`PUT ${put.getKey()}`);
          world.set(put.getKey(), put.getValue_asU8());
          cc.send(Type.RESPONSE, { txid: txId });
          break;
        }
        case Type.PUT_STATE_METADATA: {
          const put = peer.PutStateMetadata.deserializeBinary(m.getPayload_asU8());
          const entry = put.getMetadata() as peer.StateMetadata;
          requests.push(`PUT_METADATA ${put.getKey()} ${entry.getMetakey()}`);
          metadata.set(put.getKey(), entry.getValue_asU8());
          cc.send(Type.RESPONSE, { txid: txId });
          break;
        }
        case Type.COMPLETED:
        case Type.ERROR:
          return m;
        default:
          assert.fail(`unexpected chaincode message type ${m.getType()} in ${args[0]}`);
      }
    }
  }
  const responseOf = (m: Message) => {
    assert.equal(m.getType(), Type.COMPLETED);
    const r = peer.Response.deserializeBinary(m.getPayload_asU8());
    const text = Buffer.from(r.getPayload_asU8()).toString('utf8');
    return { status: r.getStatus(), message: r.getMessage(), payload: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  };

  // A query on an empty world state: the program defaults.
  const defaults = responseOf(await transact(id.retailer, ['queryProgramParams']));
  assert.equal(defaults.status, 200);
  assert.equal(defaults.payload['tokenRateMilli'], 1000);
  assert.deepEqual(world, new Map(), 'a query writes nothing');

  // The operator changes a parameter: the contract reads the stored parameters and writes them back
  // with their key-level endorsement policy (the governance orgs), and sets an event on the COMPLETED
  // message.
  requests.length = 0;
  const set = await transact(id.operator, ['setProgramParams', '{"tokenRateMilli":2000}']);
  assert.equal(responseOf(set).status, 200);
  const params = [...world.keys()];
  assert.equal(params.length, 1);
  assert.deepEqual(requests, [`GET ${params[0]}`, `PUT ${params[0]}`, `PUT_METADATA ${params[0]} VALIDATION_PARAMETER`]);
  assert.equal(formatPolicy(decodePolicy(metadata.get(params[0] as string) as Uint8Array)), "AND('Org1MSP.peer','Org2MSP.peer')");
  assert.ok(set.getChaincodeEvent()?.getEventName(), 'the change is announced with a chaincode event');
  assert.equal(responseOf(await transact(id.retailer, ['queryProgramParams'])).payload['tokenRateMilli'], 2000);

  // A retailer may not: status 500 with the contract's stable code, and nothing written.
  const before = new Map(world);
  const refused = responseOf(await transact(id.retailer, ['setProgramParams', '{"tokenRateMilli":1}']));
  assert.equal(refused.status, 500);
  assert.match(refused.message, /^ACCESS_DENIED: /);
  assert.deepEqual(world, before);
});

test('a taken address is reported', async (t) => {
  const port = await freePort();
  const first = await startChaincodeServer({ address: `127.0.0.1:${port}`, ccid: 'a:1' });
  t.after(() => first.close());
  await assert.rejects(startChaincodeServer({ address: `127.0.0.1:${port}`, ccid: 'a:1' }));
});
