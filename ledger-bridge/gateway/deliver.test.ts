/**
 * The peer's Deliver service: with @hyperledger/fabric-gateway's own block listeners (they speak
 * `protos.Deliver` on the Gateway's connection), and with a raw `peer.DeliverClient` for the SeekInfo
 * cases a block listener never sends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkpointers, type Network } from '@hyperledger/fabric-gateway';
import { common, peer } from '@hyperledger/fabric-protos';
import { RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { rmSync } from 'node:fs';
import { issueClientIdentity, loadOrCreateOrgs } from '../embedded/orgs.ts';
import { tempDataDir } from '../testing/embedded.ts';
import { DELIVER_STATUS } from './deliver-messages.ts';
import { startTestGateway, TEST_PEER_HOSTNAME, type TestGateway } from '../testing/gateway-server.ts';
import { cliClients, hangUp, MAX_BLOCK, reader, seekEnvelope, type SeekOptions } from '../testing/peer-cli.ts';
import type { LedgerIdentity } from '../ledger.ts';

/** The block bytes qscc's GetBlockByNumber returns, through the same Gateway. */
async function qsccBlock(network: Network, n: number): Promise<Buffer> {
  return Buffer.from(await network.getContract('qscc').evaluateTransaction('GetBlockByNumber', 'mychannel', String(n)));
}

async function take<T>(events: AsyncIterable<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  if (count === 0) return out;
  for await (const e of events) {
    out.push(e);
    if (out.length === count) break;
  }
  return out;
}

/** A served ledger with one transaction committed by the operator, and a fabric-gateway Network to it. */
async function committedRig(t: { after(fn: () => unknown): void }) {
  const g = await startTestGateway();
  t.after(() => g.close());
  const { operator } = g.embedded.identities;
  const committed = await g.embedded.ledger.submit(operator, 'enableRetailer', [RETAILER_ID]);
  return { g, operator, committed, network: g.fabricGateway(operator).getNetwork('mychannel') };
}

describe('Deliver service, fabric-gateway block listeners', () => {
  test('block events from a start block are the stored blocks, byte for byte as qscc serves them, then new blocks as they commit', async (t) => {
    const { g, committed: first, network } = await committedRig(t);
    const events = await network.getBlockEvents({ startBlock: 0n });
    t.after(() => events.close());
    const iterator = events[Symbol.asyncIterator]();
    for (let n = 0; n <= first.blockNumber; n++) {
      const block = (await iterator.next()).value as common.Block;
      assert.equal(block.getHeader()?.getNumber(), n);
      assert.deepEqual(Buffer.from(block.serializeBinary()), await qsccBlock(network, n), `block ${n}`);
    }
    // A block committed after the listener caught up arrives by itself.
    const contract = network.getContract('oadr-dr');
    const submitted = await contract.submitAsync('enableRetailer', { arguments: ['utility:7777'] });
    const next = (await iterator.next()).value as common.Block;
    const envelope = common.Envelope.deserializeBinary(next.getData()?.getDataList_asU8()[0] as Uint8Array);
    const header = common.Payload.deserializeBinary(envelope.getPayload_asU8()).getHeader() as common.Header;
    assert.equal(common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getTxId(), submitted.getTransactionId());
    assert.equal((await submitted.getStatus()).blockNumber, BigInt(next.getHeader()?.getNumber() ?? -1));
    assert.deepEqual(Buffer.from(next.serializeBinary()), await qsccBlock(network, next.getHeader()?.getNumber() ?? -1));
  });

  test('a checkpointed block listener resumes after the last block it handled', async (t) => {
    const g = await startTestGateway();
    t.after(() => g.close());
    const { operator } = g.embedded.identities;
    for (const id of ['utility:1001', 'utility:1002', 'utility:1003']) await g.embedded.ledger.submit(operator, 'enableRetailer', [id]);
    const network = g.fabricGateway(operator).getNetwork('mychannel');
    const checkpoint = checkpointers.inMemory();

    const firstRun = await network.getBlockEvents({ startBlock: 0n, checkpoint });
    for (const block of await take(firstRun, 2)) await checkpoint.checkpointBlock(BigInt(block.getHeader()?.getNumber() ?? 0));
    firstRun.close();
    assert.equal(checkpoint.getBlockNumber(), 2n);

    // startBlock is ignored once the checkpoint holds a position (the client library's rule).
    const secondRun = await network.getBlockEvents({ startBlock: 0n, checkpoint });
    t.after(() => secondRun.close());
    const resumed = await take(secondRun, 2);
    assert.deepEqual(resumed.map((b) => b.getHeader()?.getNumber()), [2, 3]);
  });

  test('filtered blocks carry transaction ids, types, validation codes and event names without payloads', async (t) => {
    const { g, committed, network } = await committedRig(t);
    const events = await network.getFilteredBlockEvents({ startBlock: 0n });
    t.after(() => events.close());
    const [genesis, ...rest] = await take(events, committed.blockNumber + 1);
    assert.equal(genesis?.getChannelId(), 'mychannel');
    assert.equal(genesis?.getFilteredTransactionsList()[0]?.getType(), common.HeaderType.CONFIG);
    const block = rest.at(-1) as peer.FilteredBlock;
    assert.equal(block.getNumber(), committed.blockNumber);
    const [tx] = block.getFilteredTransactionsList();
    assert.equal(tx?.getTxid(), committed.txId);
    assert.equal(tx?.getType(), common.HeaderType.ENDORSER_TRANSACTION);
    assert.equal(tx?.getTxValidationCode(), peer.TxValidationCode.VALID);
    const [action] = tx?.getTransactionActions()?.getChaincodeActionsList() ?? [];
    const event = action?.getChaincodeEvent();
    const [stored] = await take(g.embedded.ledger.events({ startBlock: committed.blockNumber }), 1);
    assert.ok(stored && stored.payload.length > 0, 'the committed event has a payload');
    assert.deepEqual([event?.getChaincodeId(), event?.getTxId(), event?.getEventName(), event?.getPayload_asU8().length], ['oadr-dr', committed.txId, stored.name, 0]);
  });

  test('blocks with private data are the stored blocks with an empty private data map', async (t) => {
    const { committed, network } = await committedRig(t);
    const events = await network.getBlockAndPrivateDataEvents({ startBlock: BigInt(committed.blockNumber) });
    t.after(() => events.close());
    const [answer] = await take(events, 1);
    assert.equal(answer?.getPrivateDataMapMap().getLength(), 0);
    assert.deepEqual(Buffer.from(answer?.getBlock()?.serializeBinary() ?? []), await qsccBlock(network, committed.blockNumber));
  });
});

describe('Deliver service, raw SeekInfo requests', () => {
  async function rig(t: { after(fn: () => unknown): void }) {
    const g = await startTestGateway();
    t.after(() => g.close());
    const clients = cliClients(g.server.address, g.server.ordererAddress, g.tlsCaPem, TEST_PEER_HOSTNAME);
    t.after(() => clients.close());
    const { operator } = g.embedded.identities;
    for (const id of ['utility:2001', 'utility:2002']) await g.embedded.ledger.submit(operator, 'enableRetailer', [id]);
    return { g, clients, operator };
  }

  /** Sends the requests on one stream, in turn; returns what came back for each: block numbers and the status. */
  async function deliver(g: TestGateway, clients: ReturnType<typeof cliClients>, identity: LedgerIdentity, requests: readonly SeekOptions[]) {
    const stream = clients.deliver.deliver();
    const next = reader<common.Envelope, peer.DeliverResponse>(stream);
    const answers: { blocks: number[]; status: number | undefined }[] = [];
    try {
      for (const request of requests) {
        stream.write(await seekEnvelope(identity, request));
        const blocks: number[] = [];
        for (;;) {
          const response = await next();
          if (!response) return { answers, ended: true };
          if (response.hasStatus()) {
            answers.push({ blocks, status: response.getStatus() });
            break;
          }
          blocks.push(response.getBlock()?.getHeader()?.getNumber() ?? -1);
        }
      }
      stream.end();
      return { answers, ended: (await next()) === undefined };
    } finally {
      hangUp(stream);
    }
  }

  test('newest, oldest, a specified range and up to newest, in turn on one stream (SUCCESS after each)', async (t) => {
    const { g, clients, operator } = await rig(t);
    const height = await g.embedded.ledger.height();
    assert.equal(height, 3);
    const { answers, ended } = await deliver(g, clients, operator, [
      { start: 'newest', stop: 'newest' },
      { start: 'oldest', stop: 'oldest' },
      { start: 1, stop: 2 },
      { start: 0, stop: 'newest' },
      { start: 2, stop: MAX_BLOCK, failIfNotReady: true },
    ]);
    assert.deepEqual(answers, [
      { blocks: [2], status: DELIVER_STATUS.SUCCESS },
      { blocks: [0], status: DELIVER_STATUS.SUCCESS },
      { blocks: [1, 2], status: DELIVER_STATUS.SUCCESS },
      { blocks: [0, 1, 2], status: DELIVER_STATUS.SUCCESS },
      // FAIL_IF_NOT_READY: the blocks there are, then NOT_FOUND for the first one not yet committed.
      { blocks: [2], status: DELIVER_STATUS.NOT_FOUND },
    ]);
    assert.ok(ended, 'a status other than SUCCESS ends the stream');
  });

  test('refusals: beyond the height, stop before start, unknown channel, stale timestamp, forged signature, unknown creator', async (t) => {
    const { g, clients, operator } = await rig(t);
    const { retailer } = g.embedded.identities;
    // Org1MSP by name, but issued by another CA than the channel's Org1MSP root.
    const elsewhere = tempDataDir();
    t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
    const [foreignOrg1] = await loadOrCreateOrgs(elsewhere);
    const stranger = await issueClientIdentity(foreignOrg1 as NonNullable<typeof foreignOrg1>, 'stranger', { ID: 'operator:x' });
    const cases: [string, LedgerIdentity, SeekOptions, number][] = [
      ['start beyond the next block', operator, { start: 4, stop: 4 }, DELIVER_STATUS.NOT_FOUND],
      ['FAIL_IF_NOT_READY at the height', operator, { start: 3, stop: 3, failIfNotReady: true }, DELIVER_STATUS.NOT_FOUND],
      ['stop before start', operator, { start: 2, stop: 1 }, DELIVER_STATUS.BAD_REQUEST],
      ['unknown channel', operator, { channelId: 'other', start: 0, stop: 0 }, DELIVER_STATUS.NOT_FOUND],
      ['timestamp 20 min old', operator, { start: 0, stop: 0, timestamp: new Date(Date.now() - 20 * 60_000) }, DELIVER_STATUS.BAD_REQUEST],
      ['signed by another key', operator, { start: 0, stop: 0, signer: retailer }, DELIVER_STATUS.FORBIDDEN],
      ['a certificate from another CA', stranger, { start: 0, stop: 0 }, DELIVER_STATUS.FORBIDDEN],
    ];
    for (const [name, identity, request, status] of cases) {
      const { answers, ended } = await deliver(g, clients, identity, [request]);
      assert.deepEqual(answers, [{ blocks: [], status }], name);
      assert.ok(ended, name);
    }
  });

  test('BLOCK_UNTIL_READY at the height waits for the block; next commit starts at the height', async (t) => {
    const { g, clients, operator } = await rig(t);
    const height = await g.embedded.ledger.height();
    // Next commit = the height: with FAIL_IF_NOT_READY it has nothing yet.
    assert.deepEqual((await deliver(g, clients, operator, [{ start: 'next-commit', stop: MAX_BLOCK, failIfNotReady: true }])).answers, [{ blocks: [], status: DELIVER_STATUS.NOT_FOUND }]);
    const stream = clients.deliver.deliverFiltered();
    t.after(() => hangUp(stream));
    const next = reader<common.Envelope, peer.DeliverResponse>(stream);
    stream.write(await seekEnvelope(operator, { start: height, stop: MAX_BLOCK }));
    const answer = next();
    const committed = await g.embedded.ledger.submit(operator, 'enableRetailer', ['utility:2003']);
    const filtered = (await answer)?.getFilteredBlock();
    assert.equal(filtered?.getNumber(), committed.blockNumber);
    assert.equal(filtered?.getFilteredTransactionsList()[0]?.getTxid(), committed.txId);
  });
});
