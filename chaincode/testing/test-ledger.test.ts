import { Context, Contract } from 'fabric-contract-api';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ChaincodeError, TestLedgerError } from './errors.ts';
import { createTestIdentity, type TestIdentity } from './test-ca.ts';
import { createTestLedger } from './test-ledger.ts';

/** A tiny contract exercising the stub the way the DR contract does. */
class SampleContract extends Contract {
  constructor() {
    super('sample');
  }

  async put(ctx: Context, key: string, value: string): Promise<void> {
    await ctx.stub.putState(key, Buffer.from(value));
  }

  async read(ctx: Context, key: string): Promise<string> {
    return Buffer.from(await ctx.stub.getState(key)).toString();
  }

  async remove(ctx: Context, key: string): Promise<void> {
    await ctx.stub.deleteState(key);
  }

  async putThenRead(ctx: Context, key: string, value: string): Promise<string> {
    await ctx.stub.putState(key, Buffer.from(value));
    const seen = await ctx.stub.getState(key);
    return JSON.stringify({ seenLength: seen.length });
  }

  async returnsObject(_ctx: Context): Promise<object> {
    return { a: 1 };
  }

  async twoEvents(ctx: Context): Promise<string> {
    ctx.stub.setEvent('first', Buffer.from('1'));
    ctx.stub.setEvent('second', Buffer.from('2'));
    await ctx.stub.putState('evented', Buffer.from('yes'));
    return 'done';
  }

  async putThenFail(ctx: Context, key: string): Promise<void> {
    await ctx.stub.putState(key, Buffer.from('never'));
    ctx.stub.setEvent('lost', Buffer.from('x'));
    throw new Error('CONFLICT: deliberate failure');
  }

  async putComposite(ctx: Context, type: string, a: string, b: string): Promise<void> {
    await ctx.stub.putState(ctx.stub.createCompositeKey(type, [a, b]), Buffer.from(`${a}|${b}`));
  }

  async listComposite(ctx: Context, type: string, a: string): Promise<string> {
    const out: string[][] = [];
    for await (const kv of ctx.stub.getStateByPartialCompositeKey(type, a === '' ? [] : [a])) {
      out.push(ctx.stub.splitCompositeKey(kv.key).attributes);
    }
    return JSON.stringify(out);
  }

  async countRange(ctx: Context, start: string, end: string): Promise<number> {
    let n = 0;
    for await (const kv of ctx.stub.getStateByRange(start, end)) {
      assert.ok(Buffer.isBuffer(kv.value));
      n++;
    }
    return n;
  }

  async countRangeAndWrite(ctx: Context, start: string, end: string, key: string): Promise<number> {
    const n = await this.countRange(ctx, start, end);
    await ctx.stub.putState(key, Buffer.from(String(n)));
    return n;
  }

  async page(ctx: Context, start: string, end: string, size: string, bookmark: string): Promise<string> {
    const { iterator, metadata } = await ctx.stub.getStateByRangeWithPagination(start, end, Number(size), bookmark);
    const keys: string[] = [];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) keys.push(r.value.key);
    await iterator.close();
    return JSON.stringify({ keys, bookmark: metadata.bookmark, fetched: metadata.fetchedRecordsCount });
  }

  async pageThenWrite(ctx: Context): Promise<void> {
    await ctx.stub.getStateByRangeWithPagination('a', 'z', 1, '');
    await ctx.stub.putState('a-write', Buffer.from('x'));
  }

  async history(ctx: Context, key: string): Promise<string> {
    const out: object[] = [];
    for await (const m of ctx.stub.getHistoryForKey(key)) {
      out.push({
        txId: m.txId,
        isDelete: m.isDelete,
        value: Buffer.from(m.value).toString(),
        seconds: Number(m.timestamp.seconds),
      });
    }
    return JSON.stringify(out);
  }

  async whoAmI(ctx: Context): Promise<string> {
    const ts = ctx.stub.getTxTimestamp();
    return JSON.stringify({
      mspId: ctx.clientIdentity.getMSPID(),
      id: ctx.clientIdentity.getID(),
      meter: ctx.clientIdentity.getAttributeValue('ID'),
      provider: ctx.clientIdentity.getAttributeValue('IDprovider'),
      enrollmentId: ctx.clientIdentity.getAttributeValue('hf.EnrollmentID'),
      missing: ctx.clientIdentity.getAttributeValue('nope'),
      assertYes: ctx.clientIdentity.assertAttributeValue('IDprovider', 'utility:1234'),
      assertNo: ctx.clientIdentity.assertAttributeValue('IDprovider', 'utility:9999'),
      creatorMsp: ctx.stub.getCreator().mspid,
      peerMsp: ctx.stub.getMspID(),
      channel: ctx.stub.getChannelID(),
      txId: ctx.stub.getTxID(),
      seconds: ts.seconds.toNumber(),
      nanos: ts.nanos,
      date: ctx.stub.getDateTimestamp().toISOString(),
      transient: Buffer.from(ctx.stub.getTransient().get('secret') ?? []).toString(),
      hasSignature: ctx.stub.getSignedProposal().signature.length > 0,
      binding: typeof ctx.stub.getBinding(),
    });
  }

  async setPolicy(ctx: Context, key: string, policy: string): Promise<string> {
    await ctx.stub.setStateValidationParameter(key, Buffer.from(policy));
    const seen = await ctx.stub.getStateValidationParameter(key);
    return seen ? Buffer.from(seen).toString() : '(none)';
  }

  async getPolicy(ctx: Context, key: string): Promise<string> {
    const seen = await ctx.stub.getStateValidationParameter(key);
    return seen ? Buffer.from(seen).toString() : '(none)';
  }

  async rich(ctx: Context): Promise<void> {
    await ctx.stub.getQueryResult('{"selector":{}}').then((it) => it.close());
  }

  _helper(): string {
    return 'not a transaction';
  }
}

const T1 = new Date('2025-03-03T08:00:00.250Z');
const T2 = new Date('2025-03-04T08:00:00.000Z');

describe('test ledger: Fabric peer behaviour', () => {
  const contract = new SampleContract();
  let retailer: TestIdentity;
  let customer: TestIdentity;

  before(async () => {
    retailer = await createTestIdentity({ mspId: 'Org1MSP', commonName: 'retailer1', attrs: { ID: 'utility:1234' } });
    customer = await createTestIdentity({
      mspId: 'Org2MSP',
      commonName: 'meter20360162',
      attrs: { ID: 'smartmeter:20360162', IDprovider: 'utility:1234' },
    });
  });

  it('does not let a transaction read its own writes', async () => {
    const ledger = createTestLedger();
    const tx = await ledger.invoke(contract, retailer, 'putThenRead', ['k', 'v1']);
    assert.equal(tx.result, '{"seenLength":0}');
    assert.deepEqual(tx.readSet.reads, [{ key: 'k', version: null }]);
    assert.deepEqual(tx.writeSet.writes, [{ key: 'k', isDelete: false, value: Buffer.from('v1') }]);
    assert.equal(ledger.get('k')?.toString(), 'v1');
    const next = await ledger.invoke(contract, retailer, 'read', ['k']);
    assert.equal(next.result, 'v1');
    assert.deepEqual(next.readSet.reads, [{ key: 'k', version: { blockNum: 1, txNum: 0 } }]);
  });

  it('delivers only the last setEvent of a transaction', async () => {
    const ledger = createTestLedger();
    const tx = await ledger.invoke(contract, retailer, 'twoEvents');
    assert.equal(tx.result, 'done');
    assert.deepEqual(tx.event, { name: 'second', payload: Buffer.from('2') });
    assert.deepEqual(
      ledger.events.map((e) => e.name),
      ['second'],
    );
  });

  it('discards writes and events of a transaction that throws', async () => {
    const ledger = createTestLedger();
    await assert.rejects(ledger.invoke(contract, retailer, 'putThenFail', ['k']), (err: unknown) => {
      assert.ok(err instanceof ChaincodeError);
      assert.equal(err.message, 'CONFLICT: deliberate failure');
      assert.equal(err.status, 500);
      return true;
    });
    assert.equal(ledger.get('k'), undefined);
    assert.equal(ledger.height, 0);
    assert.deepEqual(ledger.events, []);
  });

  it('answers unknown functions, underscore helpers and wrong argument counts as the runtime does', async () => {
    const ledger = createTestLedger();
    await assert.rejects(ledger.invoke(contract, retailer, 'nope'), {
      message: "You've asked to invoke a function that does not exist: nope",
    });
    await assert.rejects(ledger.invoke(contract, retailer, '_helper'), {
      message: "You've asked to invoke a function that does not exist: _helper",
    });
    await assert.rejects(ledger.invoke(contract, retailer, 'put', ['only-one']), {
      message: 'Expected 2 parameters, but 1 have been supplied',
    });
    const named = await ledger.evaluate(contract, retailer, 'sample:read', ['absent']);
    assert.equal(named.result, '');
  });

  it('keeps the history of a key, newest first, with tx ids and timestamps', async () => {
    const ledger = createTestLedger();
    const a = await ledger.invoke(contract, retailer, 'put', ['h', 'v1'], { timestamp: T1 });
    const b = await ledger.invoke(contract, retailer, 'put', ['h', 'v2'], { timestamp: T2 });
    const c = await ledger.invoke(contract, retailer, 'remove', ['h'], { timestamp: T2 });
    const seen = await ledger.evaluate(contract, retailer, 'history', ['h']);
    assert.deepEqual(JSON.parse(seen.result), [
      { txId: c.txId, isDelete: true, value: '', seconds: T2.getTime() / 1000 },
      { txId: b.txId, isDelete: false, value: 'v2', seconds: T2.getTime() / 1000 },
      { txId: a.txId, isDelete: false, value: 'v1', seconds: Math.floor(T1.getTime() / 1000) },
    ]);
    assert.deepEqual(
      ledger.history('h').map((h) => h.txId),
      [c.txId, b.txId, a.txId],
    );
    assert.equal(ledger.get('h'), undefined);
  });

  it('scans composite keys in UTF-8 byte order, matching only the partial key', async () => {
    const ledger = createTestLedger();
    for (const [a, b] of [
      ['m2', '😀'],
      ['m1', 'b'],
      ['m1', '\uFFFD'],
      ['m1', '😀'],
      ['m1', 'é'],
      ['m1', 'a'],
      ['m10', 'a'],
    ] as const) {
      await ledger.invoke(contract, retailer, 'putComposite', ['energy', a, b]);
    }
    await ledger.invoke(contract, retailer, 'putComposite', ['energyX', 'm1', 'z']);
    const m1 = await ledger.evaluate(contract, retailer, 'listComposite', ['energy', 'm1']);
    // UTF-16 order would put 😀 (D83D) before U+FFFD; a peer's LevelDB compares UTF-8 bytes.
    assert.deepEqual(JSON.parse(m1.result), [
      ['m1', 'a'],
      ['m1', 'b'],
      ['m1', 'é'],
      ['m1', '\uFFFD'],
      ['m1', '😀'],
    ]);
    const all = await ledger.evaluate(contract, retailer, 'listComposite', ['energy', '']);
    assert.equal(JSON.parse(all.result).length, 7);
    assert.equal(ledger.snapshot()[0]?.key, '\u0000energy\u0000m1\u0000a\u0000');
    // A simple-key range from '' starts at \u0001 and so never sees composite keys.
    const simple = await ledger.evaluate(contract, retailer, 'countRange', ['', '']);
    assert.equal(simple.result, '0');
  });

  it('parses real certificate attributes with fabric-shim ClientIdentity', async () => {
    const ledger = createTestLedger({ peerMspId: 'Org1MSP', channelId: 'drchannel' });
    const tx = await ledger.evaluate(contract, customer, 'whoAmI', [], { timestamp: T1, transient: { secret: 's3' } });
    const who = JSON.parse(tx.result);
    assert.deepEqual(who, {
      mspId: 'Org2MSP',
      id: 'x509::/O=oadr-ledger development PKI/OU=client/CN=meter20360162::/O=ca.org2msp/CN=ca.org2msp',
      meter: 'smartmeter:20360162',
      provider: 'utility:1234',
      enrollmentId: 'meter20360162',
      missing: null,
      assertYes: true,
      assertNo: false,
      creatorMsp: 'Org2MSP',
      peerMsp: 'Org1MSP',
      channel: 'drchannel',
      txId: tx.txId,
      seconds: Math.floor(T1.getTime() / 1000),
      nanos: 250_000_000,
      date: T1.toISOString(),
      transient: 's3',
      hasSignature: true,
      binding: 'string',
    });
    assert.match(tx.txId, /^[0-9a-f]{64}$/);
  });

  it('produces byte-identical snapshots for the same transactions in any key order', async () => {
    const run = async (keys: string[]) => {
      const ledger = createTestLedger();
      for (const k of keys) await ledger.invoke(contract, retailer, 'put', [k, `value-${k}`]);
      return ledger.snapshot();
    };
    const one = await run(['b', 'a', 'é', 'c']);
    const two = await run(['c', 'é', 'a', 'b']);
    assert.deepEqual(one, two);
    assert.deepEqual(
      one.map((e) => e.key),
      ['a', 'b', 'c', 'é'],
    );
  });

  it('detects MVCC and phantom read conflicts at commit', async () => {
    const ledger = createTestLedger();
    await ledger.invoke(contract, retailer, 'put', ['x', '1']);
    const first = await ledger.invoke(contract, retailer, 'putThenRead', ['x', '2'], { commit: false });
    const second = await ledger.invoke(contract, retailer, 'putThenRead', ['x', '3'], { commit: false });
    assert.equal(ledger.commit(first).validationCode, 'VALID');
    assert.equal(ledger.commit(second).validationCode, 'MVCC_READ_CONFLICT');
    assert.equal(ledger.get('x')?.toString(), '2');

    const scan = await ledger.invoke(contract, retailer, 'countRangeAndWrite', ['r0', 'r9', 'count'], { commit: false });
    assert.deepEqual(scan.readSet.rangeQueries, [{ startKey: 'r0', endKey: 'r9', itrExhausted: true, reads: [] }]);
    await ledger.invoke(contract, retailer, 'put', ['r5', 'new']);
    assert.equal(ledger.commit(scan).validationCode, 'PHANTOM_READ_CONFLICT');
    assert.equal(ledger.get('count'), undefined);
    assert.throws(() => ledger.commit(scan), TestLedgerError);
  });

  it('refuses a duplicate transaction id', async () => {
    const ledger = createTestLedger();
    await ledger.invoke(contract, retailer, 'put', ['d', '1'], { txId: 'tx-1' });
    await assert.rejects(ledger.invoke(contract, retailer, 'put', ['d', '2'], { txId: 'tx-1' }), {
      code: 'DUPLICATE_TXID',
    });
  });

  it('streams range results past the 100-result batches', async () => {
    const ledger = createTestLedger();
    for (let i = 0; i < 250; i++) await ledger.invoke(contract, retailer, 'put', [`k${String(i).padStart(3, '0')}`, 'v']);
    const tx = await ledger.evaluate(contract, retailer, 'countRange', ['k', 'l']);
    assert.equal(tx.result, '250');
    assert.equal(tx.readSet.rangeQueries[0]?.reads.length, 250);
  });

  it('paginates range queries with bookmarks and refuses writes after a paginated query', async () => {
    const ledger = createTestLedger();
    for (const k of ['a', 'b', 'c', 'd', 'e']) await ledger.invoke(contract, retailer, 'put', [k, k]);
    const p1 = JSON.parse((await ledger.evaluate(contract, retailer, 'page', ['a', 'z', '2', ''])).result);
    assert.deepEqual(p1, { keys: ['a', 'b'], bookmark: 'c', fetched: 2 });
    const p3 = JSON.parse((await ledger.evaluate(contract, retailer, 'page', ['a', 'z', '2', 'e'])).result);
    assert.deepEqual(p3, { keys: ['e'], bookmark: '', fetched: 1 });
    await assert.rejects(ledger.invoke(contract, retailer, 'pageThenWrite'), {
      message: /Transaction has already performed a paginated query\. Writes are not allowed/,
    });
  });

  it('treats putState of an empty value as a delete', async () => {
    const ledger = createTestLedger();
    await ledger.invoke(contract, retailer, 'put', ['e', 'x']);
    const tx = await ledger.invoke(contract, retailer, 'put', ['e', '']);
    assert.deepEqual(tx.writeSet.writes, [{ key: 'e', isDelete: true, value: null }]);
    assert.equal(ledger.get('e'), undefined);
  });

  it('stores validation parameters per key, committed with the transaction', async () => {
    const ledger = createTestLedger();
    await ledger.invoke(contract, retailer, 'put', ['p', 'x']);
    const set = await ledger.invoke(contract, retailer, 'setPolicy', ['p', 'policy-bytes']);
    assert.equal(set.result, '(none)'); // not visible inside its own transaction
    assert.equal((await ledger.evaluate(contract, retailer, 'getPolicy', ['p'])).result, 'policy-bytes');
    await ledger.invoke(contract, retailer, 'put', ['p', 'y']); // a value write keeps the metadata
    assert.equal((await ledger.evaluate(contract, retailer, 'getPolicy', ['p'])).result, 'policy-bytes');
    await ledger.invoke(contract, retailer, 'setPolicy', ['absent', 'ignored']);
    assert.equal((await ledger.evaluate(contract, retailer, 'getPolicy', ['absent'])).result, '(none)');
  });

  it('serialises a returned object as the installed fabric-contract-api runtime does', async () => {
    // fabric-contract-api 2.5 calls class-transformer's classToPlain; class-transformer 0.4.1 (what the
    // lockfile resolves) renamed it, so on a real peer with these modules an object result fails too.
    const ledger = createTestLedger();
    const { createRequire } = await import('node:module');
    const transformer = createRequire(import.meta.url)('class-transformer') as { classToPlain?: unknown };
    const call = ledger.evaluate(contract, retailer, 'returnsObject');
    if (typeof transformer.classToPlain === 'function') assert.equal((await call).result, '{"a":1}');
    else await assert.rejects(call, { message: 'classToPlain is not a function' });
  });

  it('refuses rich queries as a LevelDB peer does', async () => {
    const ledger = createTestLedger();
    await assert.rejects(ledger.invoke(contract, retailer, 'rich'), { message: 'ExecuteQuery not supported for leveldb' });
  });
});
