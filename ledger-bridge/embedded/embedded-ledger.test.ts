import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, mock, test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { Contract, type Context } from 'fabric-contract-api';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { peer } from '@hyperledger/fabric-protos';
import { EVENT_ENERGY_RECORDED } from '../../chaincode/index.ts';
import { addDaysUtc, EVENT_DAY, METER_1, profile, RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { createEmbeddedLedger } from './embedded-ledger.ts';
import { LedgerError } from '../errors.ts';
import { ValidationCode, type ContractEvent } from '../ledger.ts';
import { loadOrCreateOrgs } from './orgs.ts';
import { STORE_FILE } from './store.ts';
import { ledgerContractSuite } from '../testing/contract-suite.ts';
import { clientEnvelope, clientProposal, createTestEmbeddedLedger, tempDataDir, type TestEmbeddedLedger } from '../testing/embedded.ts';
import { verifyLedger } from './verify.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';

ledgerContractSuite('embedded', () => createTestEmbeddedLedger());

const at = (l: TestEmbeddedLedger, day: string, time = '12:00:00') => l.setTime(new Date(`${day}T${time}Z`));

/** A ledger with the retailer enabled and METER_1 enrolled, clock on the event day. */
async function withMeter(options: Parameters<typeof createTestEmbeddedLedger>[0] = {}): Promise<TestEmbeddedLedger> {
  const l = await createTestEmbeddedLedger(options);
  at(l, addDaysUtc(EVENT_DAY, -40));
  await l.ledger.submit(l.identities.operator, 'enableRetailer', [RETAILER_ID]);
  await l.ledger.submit(l.identities.retailer, 'enrolMeter', [METER_1]);
  at(l, EVENT_DAY, '01:00:00');
  return l;
}

function isValidationError(name: keyof typeof ValidationCode) {
  return (err: unknown) => {
    assert.ok(err instanceof LedgerError, String(err));
    assert.equal(err.code, 'VALIDATION');
    assert.deepEqual(err.validationCode, { name, number: ValidationCode[name] });
    return true;
  };
}

describe('MVCC', () => {
  test('two read-modify-writes of one key in one block: one VALID, one MVCC_READ_CONFLICT (11), one write applied', async (t) => {
    const l = await withMeter({ batch: { maxMessageCount: 2, timeoutMs: 300 } });
    t.after(() => l.close());
    const day = addDaysUtc(EVENT_DAY, -1);
    const results = await Promise.allSettled([
      l.ledger.submit(l.identities.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 1))]),
      l.ledger.submit(l.identities.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 2))]),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    isValidationError('MVCC_READ_CONFLICT')((lost[0] as PromiseRejectedResult).reason);
    const winner = (won[0] as PromiseFulfilledResult<{ txId: string; blockNumber: number }>).value;
    const block = await l.ledger.block(winner.blockNumber);
    assert.deepEqual(block.transactions.map((tx) => tx.validationCode).sort(), ['MVCC_READ_CONFLICT', 'VALID']);
    const loser = (lost[0] as PromiseRejectedResult).reason as LedgerError;
    assert.equal((await l.ledger.transaction(loser.txId as string)).validationCode, 'MVCC_READ_CONFLICT');
    const record = JSON.parse(await l.ledger.evaluate(l.identities.retailer, 'queryEnergyValue', [METER_1, day])) as { history: { txId: string }[] };
    assert.deepEqual(record.history.map((h) => h.txId), [winner.txId], 'only the valid write is applied');
    // Events: the invalid transaction has none.
    const controller = new AbortController();
    const events: ContractEvent[] = [];
    for await (const e of l.ledger.events({ startBlock: winner.blockNumber, signal: controller.signal })) {
      events.push(e);
      controller.abort();
    }
    assert.deepEqual(events.map((e) => [e.txId, e.name]), [[winner.txId, EVENT_ENERGY_RECORDED]]);
  });
});

const flexRecord = (id: string, time: string) =>
  JSON.stringify({ id, time, voltageLL: 400, voltageLN: 230, power: -3, assetIds: ['bat-1'], components: [{ assetId: 'bat-1', power: -3 }] });

describe('endorsement', () => {
  test('a flexibility claim endorsed by one org only → ENDORSEMENT_POLICY_FAILURE (10), nothing written; both orgs → VALID', async (t) => {
    const l = await withMeter();
    t.after(() => l.close());
    assert.equal(l.ledger.policyOf('submitFlexibility'), "AND('Org1MSP.peer','Org2MSP.peer')");
    const now = new Date(`${EVENT_DAY}T01:00:00Z`);
    const proposal = await clientProposal(l.ledger, l.identities.retailer, 'submitFlexibility', [flexRecord('flex-1', `${EVENT_DAY}T00:45:00Z`)], now);
    const responses = await l.ledger.endorse(proposal.signed, { orgs: ['Org1MSP'] });
    assert.equal(responses.length, 1);
    assert.equal(responses[0]?.getResponse()?.getStatus(), 200);
    await l.ledger.submitEnvelope(await clientEnvelope(proposal, responses));
    const status = await l.ledger.commitStatus(proposal.txId);
    assert.equal(status.validationCode, 'ENDORSEMENT_POLICY_FAILURE');
    assert.equal(ValidationCode[status.validationCode], 10);
    await assert.rejects(l.ledger.evaluate(l.identities.operator, 'queryFlexibility', ['flex-1']), (err: unknown) => err instanceof LedgerError && err.contractCode === 'NOT_FOUND');

    const ok = await l.ledger.submit(l.identities.retailer, 'submitFlexibility', [flexRecord('flex-2', `${EVENT_DAY}T00:45:00Z`)]);
    assert.deepEqual((await l.ledger.transaction(ok.txId)).endorsers, ['Org1MSP', 'Org2MSP']);
    assert.equal(JSON.parse(await l.ledger.evaluate(l.identities.operator, 'queryFlexibility', ['flex-2'])).status, 'recorded');
  });

  test('a tampered endorsement signature does not count: the transaction is refused and writes nothing', async (t) => {
    const l = await withMeter();
    t.after(() => l.close());
    const proposal = await clientProposal(l.ledger, l.identities.retailer, 'enrolMeter', ['smartmeter:777'], new Date(`${EVENT_DAY}T01:00:00Z`));
    const [response] = await l.ledger.endorse(proposal.signed);
    assert.ok(response);
    const endorsement = response.getEndorsement() as peer.Endorsement;
    const signature = Buffer.from(endorsement.getSignature_asU8());
    signature[signature.length - 3] = (signature[signature.length - 3] as number) ^ 0x01;
    endorsement.setSignature(signature);
    await l.ledger.submitEnvelope(await clientEnvelope(proposal, [response]));
    assert.equal((await l.ledger.commitStatus(proposal.txId)).validationCode, 'ENDORSEMENT_POLICY_FAILURE');
    await assert.rejects(l.ledger.evaluate(l.identities.retailer, 'queryMeter', ['smartmeter:777']), (err: unknown) => err instanceof LedgerError && err.contractCode === 'NOT_FOUND');
  });

  test('a proposal with a bad signature is refused at endorsement; a tampered envelope → BAD_CREATOR_SIGNATURE', async (t) => {
    const l = await withMeter();
    t.after(() => l.close());
    const proposal = await clientProposal(l.ledger, l.identities.retailer, 'enrolMeter', ['smartmeter:778'], new Date(`${EVENT_DAY}T01:00:00Z`));
    const forged = peer.SignedProposal.deserializeBinary(proposal.signed.serializeBinary());
    const sig = Buffer.from(forged.getSignature_asU8());
    sig[sig.length - 2] = (sig[sig.length - 2] as number) ^ 0x01;
    forged.setSignature(sig);
    const [refused] = await l.ledger.endorse(forged);
    assert.equal(refused?.getResponse()?.getStatus(), 403);
    assert.equal(refused?.hasEndorsement(), false);

    const responses = await l.ledger.endorse(proposal.signed);
    const envelope = Buffer.from(await clientEnvelope(proposal, responses));
    envelope[envelope.length - 80] = (envelope[envelope.length - 80] as number) ^ 0x01; // inside the payload
    await l.ledger.submitEnvelope(envelope);
    assert.equal((await l.ledger.commitStatus(proposal.txId)).validationCode, 'BAD_CREATOR_SIGNATURE');
    await assert.rejects(l.ledger.evaluate(l.identities.retailer, 'queryMeter', ['smartmeter:778']), (err: unknown) => err instanceof LedgerError && err.contractCode === 'NOT_FOUND');
  });

  test('key-level endorsement policies (setStateValidationParameter) are honoured', async (t) => {
    class KvContract extends Contract {
      constructor() {
        super('kv');
      }
      async put(ctx: Context, key: string, value: string): Promise<void> {
        await ctx.stub.putState(key, Buffer.from(value));
      }
      async lock(ctx: Context, key: string, mspId: string): Promise<void> {
        const policy = new KeyEndorsementPolicy();
        policy.addOrgs('PEER', mspId);
        await ctx.stub.setStateValidationParameter(key, policy.getPolicy());
      }
      async get(ctx: Context, key: string): Promise<string> {
        return Buffer.from(await ctx.stub.getState(key)).toString('utf8');
      }
    }
    const l = await createTestEmbeddedLedger({ contract: KvContract, chaincodeName: 'kv' });
    t.after(() => l.close());
    const org1Client = l.identities.retailer;
    await l.ledger.submit(org1Client, 'put', ['k', 'v1']);
    const locked = await l.ledger.submit(org1Client, 'lock', ['k', 'Org2MSP']);
    assert.deepEqual((await l.ledger.transaction(locked.txId)).endorsers, ['Org1MSP', 'Org2MSP'], 'the org of the policy written endorses its writing');
    // Endorsed by the peer the chaincode-level policy (any one org) picks for an Org1 client, Org1's:
    // the key's own policy wants Org2's peer, so the write is invalid.
    const proposal = await clientProposal(l.ledger, org1Client, 'put', ['k', 'v2']);
    await l.ledger.submitEnvelope(await clientEnvelope(proposal, await l.ledger.endorse(proposal.signed, { orgs: ['Org1MSP'] })));
    assert.equal((await l.ledger.commitStatus(proposal.txId)).validationCode, 'ENDORSEMENT_POLICY_FAILURE');
    assert.equal(await l.ledger.evaluate(org1Client, 'get', ['k']), 'v1');
    // Other keys still follow the chaincode-level policy: Org1's peer alone.
    const other = await l.ledger.submit(org1Client, 'put', ['other', 'x']);
    assert.deepEqual((await l.ledger.transaction(other.txId)).endorsers, ['Org1MSP']);
    // submit (and endorse without orgs) follows the peer's chaincode interest, as Fabric's gateway:
    // Org1's peer answers that the write needs Org2's, which endorses too, and the write is valid.
    const planned = await l.ledger.submit(org1Client, 'put', ['k', 'v3']);
    assert.deepEqual((await l.ledger.transaction(planned.txId)).endorsers, ['Org1MSP', 'Org2MSP']);
    assert.equal(await l.ledger.evaluate(org1Client, 'get', ['k']), 'v3');
    const viaGateway = await clientProposal(l.ledger, org1Client, 'put', ['k', 'v4']);
    const responses = await l.ledger.endorse(viaGateway.signed);
    const interest = responses[0]?.getInterest()?.getChaincodesList()[0];
    assert.equal(interest?.getKeyPoliciesList().length, 1, "the first endorser's ProposalResponse carries the key's policy");
    assert.equal(interest?.getDisregardNamespacePolicy(), true, 'every key written has its own policy');
    await l.ledger.submitEnvelope(await clientEnvelope(viaGateway, responses));
    assert.equal((await l.ledger.commitStatus(viaGateway.txId)).validationCode, 'VALID');
    assert.equal(await l.ledger.evaluate(org1Client, 'get', ['k']), 'v4');
  });

  test('a key-level policy that needs an org without a peer here is refused before ordering, with the org named', async (t) => {
    class KvContract extends Contract {
      constructor() {
        super('kv');
      }
      async lock(ctx: Context, key: string, mspId: string): Promise<void> {
        await ctx.stub.putState(key, Buffer.from('v'));
        const policy = new KeyEndorsementPolicy();
        policy.addOrgs('PEER', mspId);
        await ctx.stub.setStateValidationParameter(key, policy.getPolicy());
      }
    }
    const l = await createTestEmbeddedLedger({ contract: KvContract, chaincodeName: 'kv' });
    t.after(() => l.close());
    const height = await l.ledger.height();
    await assert.rejects(l.ledger.submit(l.identities.retailer, 'lock', ['k', 'Org3MSP']), (err: unknown) => {
      assert.ok(err instanceof LedgerError && err.code === 'ENDORSEMENT', String(err));
      assert.match(err.message, /'Org3MSP\.peer'.*needs the endorsement of Org3MSP.*no peer/);
      return true;
    });
    const proposal = await clientProposal(l.ledger, l.identities.retailer, 'lock', ['k', 'Org3MSP']);
    await assert.rejects(l.ledger.endorse(proposal.signed), (err: unknown) => err instanceof LedgerError && err.code === 'ENDORSEMENT' && /Org3MSP/.test(err.message));
    assert.equal(await l.ledger.height(), height, 'nothing was ordered');
  });
});

describe('governance: the key-level policy of the program parameters', () => {
  // As on a Fabric channel whose chaincode policy is OR: any one org's peer may endorse a
  // setProgramParams, so only the program key's own policy (set by the contract) stands between a
  // single org and the parameters.
  const OR_POLICY = "OR('Org1MSP.peer','Org2MSP.peer')";
  const tokenRate = async (l: TestEmbeddedLedger) => JSON.parse(await l.ledger.evaluate(l.identities.operator, 'queryProgramParams', [])).tokenRateMilli as number;
  /** A setProgramParams endorsed by exactly the peers of `orgs`; its validation code. */
  async function endorsedBy(l: TestEmbeddedLedger, orgs: string[], params: object): Promise<string> {
    const proposal = await clientProposal(l.ledger, l.identities.operator, 'setProgramParams', [JSON.stringify(params)]);
    await l.ledger.submitEnvelope(await clientEnvelope(proposal, await l.ledger.endorse(proposal.signed, { orgs })));
    return (await l.ledger.commitStatus(proposal.txId)).validationCode;
  }

  test('a parameter change endorsed by one org → ENDORSEMENT_POLICY_FAILURE (10), unchanged; by both orgs → VALID; submit collects both', async (t) => {
    // One endorsement worker: the submits plan their endorsements in the worker thread.
    const l = await createTestEmbeddedLedger({ policies: { functions: { setProgramParams: OR_POLICY } }, endorsementWorkers: 1 });
    assert.equal(l.ledger.endorsementWorkers, 1);
    t.after(() => l.close());
    // The first change writes the policy: the orgs it names endorse it too (the submit's plan).
    const first = await l.ledger.submit(l.identities.operator, 'setProgramParams', ['{"tokenRateMilli":1500}']);
    assert.deepEqual((await l.ledger.transaction(first.txId)).endorsers, ['Org1MSP', 'Org2MSP']);
    for (const org of ['Org1MSP', 'Org2MSP']) {
      assert.equal(await endorsedBy(l, [org], { tokenRateMilli: 9 }), 'ENDORSEMENT_POLICY_FAILURE', `endorsed by ${org} alone`);
      assert.equal(await tokenRate(l), 1500, 'the parameters are unchanged');
    }
    assert.equal(await endorsedBy(l, ['Org1MSP', 'Org2MSP'], { tokenRateMilli: 1600 }), 'VALID');
    assert.equal(await tokenRate(l), 1600);
    // submit asks Org1's peer (the OR), which answers that the program key needs both orgs.
    const planned = await l.ledger.submit(l.identities.operator, 'setProgramParams', ['{"tokenRateMilli":1700}']);
    assert.deepEqual((await l.ledger.transaction(planned.txId)).endorsers, ['Org1MSP', 'Org2MSP']);
    assert.equal(await tokenRate(l), 1700);
    // The lockout is refused by the contract at endorsement: nothing is ordered.
    const height = await l.ledger.height();
    await assert.rejects(l.ledger.submit(l.identities.operator, 'setProgramParams', ['{"operatorMspIds":["Org2MSP"]}']), (err: unknown) => err instanceof LedgerError && err.contractCode === 'OPERATOR_LOCKOUT');
    assert.equal(await l.ledger.height(), height);
    assert.deepEqual(JSON.parse(await l.ledger.evaluate(l.identities.operator, 'queryProgramParams', [])).operatorMspIds, ['Org1MSP']);
  });

  test('the first change, before the program key has a policy, needs every org too (the embedded ledger\'s governance function policy)', async (t) => {
    const l = await createTestEmbeddedLedger();
    t.after(() => l.close());
    assert.equal(l.ledger.policyOf('setProgramParams'), "AND('Org1MSP.peer','Org2MSP.peer')");
    assert.equal(await endorsedBy(l, ['Org1MSP'], { tokenRateMilli: 9 }), 'ENDORSEMENT_POLICY_FAILURE');
    assert.equal(await tokenRate(l), 1000);
  });
});

  test('own signatures: checked against the memo by default, verified with ECDSA at commit with verifyOwnSignatures', async (t) => {
    // Count the ECDSA verifications the MSP runs (node:crypto's verify, seen through msp.ts's import).
    const verify = mock.method(crypto, 'verify');
    syncBuiltinESMExports();
    t.after(() => {
      verify.mock.restore();
      syncBuiltinESMExports();
    });
    const verificationsFor = async (verifyOwnSignatures: boolean): Promise<number> => {
      const l = await withMeter({ verifyOwnSignatures, endorsementWorkers: 0 });
      try {
        const before = verify.mock.callCount();
        const r = await l.ledger.submit(l.identities.retailer, 'recordEnergy', [METER_1, addDaysUtc(EVENT_DAY, -1), JSON.stringify(profile(1, 1))]);
        assert.equal((await l.ledger.transaction(r.txId)).validationCode, 'VALID');
        return verify.mock.callCount() - before;
      } finally {
        await l.close();
      }
    };
    assert.equal(await verificationsFor(false), 0, 'the creator and endorser signatures made here are in the memo');
    assert.equal(await verificationsFor(true), 2, 'the creator signature and the one endorsement, with ECDSA');
  });

describe('batch cutting in the ledger', () => {
  test('MaxMessageCount cuts full blocks; BatchTimeout cuts the rest', async (t) => {
    const l = await withMeter({ batch: { maxMessageCount: 3, timeoutMs: 50 } });
    t.after(() => l.close());
    const h0 = await l.ledger.height();
    const results = await Promise.all(
      Array.from({ length: 7 }, (_, i) => l.ledger.submit(l.identities.retailer, 'enrolMeter', [`smartmeter:9${i}`])),
    );
    const sizes = new Map<number, number>();
    for (const r of results) sizes.set(r.blockNumber, (sizes.get(r.blockNumber) ?? 0) + 1);
    assert.equal(await l.ledger.height(), h0 + 3);
    assert.deepEqual([...sizes.values()].sort(), [1, 3, 3]);
  });
});

describe('durability', () => {
  test('blocks and state survive a restart; the chain verifies; submitting continues', async (t) => {
    const dataDir = tempDataDir();
    const first = await withMeter({ dataDir });
    const r1 = await first.ledger.submit(first.identities.retailer, 'recordEnergy', [METER_1, addDaysUtc(EVENT_DAY, -1), JSON.stringify(profile(1, 1))]);
    const height = await first.ledger.height();
    await first.ledger.close();
    const orgs = await loadOrCreateOrgs(join(dataDir, 'certs'), { createCa: createTestCa });
    let now = new Date(`${EVENT_DAY}T02:00:00Z`);
    const again = await createEmbeddedLedger({ dataDir, orgs, clock: () => now });
    t.after(async () => {
      await again.close();
      await first.close();
    });
    assert.equal(await again.height(), height);
    assert.equal((await again.transaction(r1.txId)).blockNumber, r1.blockNumber);
    const record = JSON.parse(await again.evaluate(first.identities.retailer, 'queryEnergyValue', [METER_1, addDaysUtc(EVENT_DAY, -1)])) as { found: boolean };
    assert.equal(record.found, true);
    now = new Date(`${EVENT_DAY}T03:00:00Z`);
    const r2 = await again.submit(first.identities.retailer, 'recordEnergy', [METER_1, addDaysUtc(EVENT_DAY, -2), JSON.stringify(profile(1, 2))]);
    assert.equal(r2.blockNumber, height);
    await assert.rejects(createEmbeddedLedger({ dataDir, orgs }), (err: unknown) => err instanceof LedgerError && err.code === 'UNAVAILABLE');
    await again.close();
    const report = await verifyLedger(dataDir);
    assert.deepEqual(report.problems, []);
    assert.equal(report.blocks, height + 1);
  });
});

describe('tamper detection', () => {
  async function ledgerOnDisk(): Promise<{ dataDir: string; txBlock: number; l: TestEmbeddedLedger }> {
    const dataDir = tempDataDir();
    const l = await withMeter({ dataDir });
    const r = await l.ledger.submit(l.identities.retailer, 'recordEnergy', [METER_1, addDaysUtc(EVENT_DAY, -1), JSON.stringify(profile(1, 1))]);
    await l.ledger.submit(l.identities.retailer, 'enrolMeter', ['smartmeter:555']);
    await l.ledger.close();
    return { dataDir, txBlock: r.blockNumber, l };
  }

  test('an untouched ledger verifies', async (t) => {
    const { dataDir, l } = await ledgerOnDisk();
    t.after(() => l.close());
    const report = await verifyLedger(dataDir);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.blocks, 5);
  });

  test('one flipped byte in a stored block is reported with its block number', async (t) => {
    const { dataDir, txBlock, l } = await ledgerOnDisk();
    t.after(() => l.close());
    const db = new DatabaseSync(join(dataDir, STORE_FILE));
    const row = db.prepare('SELECT bytes FROM blocks WHERE num = ?').get(txBlock) as { bytes: Uint8Array };
    const bytes = Buffer.from(row.bytes);
    const at = Math.floor(bytes.length / 2); // inside the recordEnergy envelope
    bytes[at] = (bytes[at] as number) ^ 0x20;
    db.prepare('UPDATE blocks SET bytes = ? WHERE num = ?').run(bytes, txBlock);
    db.close();
    const report = await verifyLedger(dataDir);
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.blockNumber, txBlock, JSON.stringify(report.problems));
  });

  test('one flipped byte in the state store is reported with the block that wrote the key', async (t) => {
    const { dataDir, txBlock, l } = await ledgerOnDisk();
    t.after(() => l.close());
    const db = new DatabaseSync(join(dataDir, STORE_FILE));
    const row = db.prepare('SELECT key, value FROM state WHERE block = ?').get(txBlock) as { key: Uint8Array; value: Uint8Array };
    const value = Buffer.from(row.value);
    value[5] = (value[5] as number) ^ 0x01;
    db.prepare('UPDATE state SET value = ? WHERE key = ?').run(value, row.key);
    db.close();
    const report = await verifyLedger(dataDir);
    assert.equal(report.ok, false);
    assert.deepEqual(report.problems.map((p) => p.blockNumber), [txBlock]);
    assert.match(report.problems[0]?.message ?? '', /state value/);
  });

  test('a changed validation code is caught by the commit hash', async (t) => {
    const { dataDir, txBlock, l } = await ledgerOnDisk();
    t.after(() => l.close());
    const db = new DatabaseSync(join(dataDir, STORE_FILE));
    const row = db.prepare('SELECT bytes FROM blocks WHERE num = ?').get(txBlock) as { bytes: Uint8Array };
    const block = (await import('@hyperledger/fabric-protos')).common.Block.deserializeBinary(row.bytes);
    const metadata = block.getMetadata()?.getMetadataList_asU8() ?? [];
    metadata[2] = Uint8Array.from([ValidationCode.MVCC_READ_CONFLICT]);
    block.getMetadata()?.setMetadataList(metadata);
    db.prepare('UPDATE blocks SET bytes = ? WHERE num = ?').run(block.serializeBinary(), txBlock);
    db.close();
    const report = await verifyLedger(dataDir);
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.blockNumber, txBlock);
  });
});
