import assert from 'node:assert/strict';
import { test } from 'node:test';
import { common, peer } from '@hyperledger/fabric-protos';
import { RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { parseFabricBlock } from '../fabric/fabric-block.ts';
import { createQscc } from './qscc.ts';
import { createTestEmbeddedLedger } from '../testing/embedded.ts';

test('qscc: blocks rebuilt from the ledger read back as the ledger shows them; chain info; processed transactions; refusals', async (t) => {
  const l = await createTestEmbeddedLedger();
  t.after(() => l.close());
  l.setTime(new Date('2025-05-01T12:00:00Z'));
  const ok = await l.ledger.submit(l.identities.operator, 'enableRetailer', [RETAILER_ID]);
  await assert.rejects(l.ledger.submit(l.identities.retailer, 'enableRetailer', ['utility:6666']));
  // A ledger that cannot hand out its stored blocks: qscc rebuilds them from its block view.
  const qscc = createQscc({ height: () => l.ledger.height(), block: (n) => l.ledger.block(n), transaction: (id) => l.ledger.transaction(id) }, 'mychannel', 'oadr-dr');

  const info = common.BlockchainInfo.deserializeBinary((await qscc.invoke(['GetChainInfo', 'mychannel'])).payload);
  assert.equal(info.getHeight(), await l.ledger.height());
  assert.equal(Buffer.from(info.getCurrentblockhash_asU8()).toString('hex'), (await l.ledger.block(info.getHeight() - 1)).hash);

  for (let n = 0; n < info.getHeight(); n++) {
    const answer = await qscc.invoke(['GetBlockByNumber', 'mychannel', String(n)]);
    assert.equal(answer.status, 200);
    const { transactions, ...header } = parseFabricBlock(answer.payload);
    const expected = await l.ledger.block(n);
    assert.deepEqual(header, { number: expected.number, hash: expected.hash, previousHash: expected.previousHash, dataHash: expected.dataHash });
    assert.deepEqual(transactions.map(({ code: _code, ...tx }) => tx), expected.transactions);
  }

  const byTx = parseFabricBlock((await qscc.invoke(['GetBlockByTxID', 'mychannel', ok.txId])).payload);
  assert.equal(byTx.number, ok.blockNumber);
  const processed = peer.ProcessedTransaction.deserializeBinary((await qscc.invoke(['GetTransactionByID', 'mychannel', ok.txId])).payload);
  assert.equal(processed.getValidationcode(), 0);
  assert.ok(processed.getTransactionenvelope());

  for (const args of [['GetBlockByNumber', 'mychannel', '99'], ['GetBlockByNumber', 'mychannel', 'x'], ['GetBlockByNumber', 'other', '0'], ['GetBlockByTxID', 'mychannel', 'ff'], ['Nope', 'mychannel']]) {
    const answer = await qscc.invoke(args);
    assert.equal(answer.status, 500, args.join(' '));
    assert.ok(answer.message.length > 0);
  }
});

test('qscc: a ledger that hands out its stored blocks has them served byte for byte', async () => {
  const stored = new Map([[0, Uint8Array.from([1, 2, 3])]]);
  const qscc = createQscc(
    {
      height: async () => 1,
      block: async () => assert.fail('the rebuilt block is not needed'),
      transaction: async () => assert.fail('unused'),
      blockBytes: async (n) => stored.get(n),
    },
    'mychannel',
    'oadr-dr',
  );
  assert.deepEqual((await qscc.invoke(['GetBlockByNumber', 'mychannel', '0'])).payload, Uint8Array.from([1, 2, 3]));
});
