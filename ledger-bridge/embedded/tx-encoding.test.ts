import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peer } from '@hyperledger/fabric-protos';
import { computeTxId, createSignedProposal, serializeIdentity } from '../fabric/fabric-proposal.ts';
import { timestampOf, type ReadSet, type WriteSet } from '../fabric/rwset.ts';
import { buildProposalResponse, buildTransactionEnvelope, decodeProposal, decodeTransaction, decodeTxRwSet, encodeTxRwSet } from '../fabric/fabric-messages.ts';
import { encodeEnvelope, encodeProposal, encodeProposalResponsePayload, encodeRwSet, encodeTransactionPayload } from './tx-encoding.ts';

const creator = serializeIdentity('Org1MSP', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const nonce = Buffer.alloc(24, 7);
const txId = computeTxId(nonce, creator);

for (const [name, args, time] of [
  ['typical arguments', ['recordEnergy', 'smartmeter:1', '2026-01-02', '[1,2,3]'], new Date('2026-11-21T05:00:00.123Z')],
  ['empty and non-ASCII arguments, whole second', ['fn', '', 'é€😀', 'x'.repeat(300)], new Date('2026-11-21T05:00:00.000Z')],
  ['no arguments at all', [], new Date(0)],
] as const) {
  test(`encodeProposal: the bytes and proposal hash of createSignedProposal + decodeProposal (${name})`, async () => {
    const fields = { channelId: 'mychannel', chaincodeName: 'oadr-dr', txId, args, creator, nonce, timestamp: timestampOf(time) };
    const signed = await createSignedProposal(fields);
    const ours = encodeProposal(fields);
    assert.deepEqual(Buffer.from(ours.proposalBytes), Buffer.from(signed.getProposalBytes_asU8()));
    const decoded = decodeProposal(signed);
    assert.deepEqual(ours.proposalHash, decoded.proposalHash);
    assert.deepEqual(Buffer.from(ours.headerBytes), Buffer.from(decoded.headerBytes));
    assert.deepEqual(Buffer.from(ours.signatureHeaderBytes), Buffer.from(decoded.signatureHeaderBytes));
    assert.deepEqual(Buffer.from(ours.payloadBytes), Buffer.from(decoded.payloadWithoutTransient));
  });
}

test('encodeRwSet: the bytes of encodeTxRwSet for reads (absent and versioned), range queries, writes, deletes, metadata', () => {
  const readSet: ReadSet = {
    reads: [{ key: 'a', version: null }, { key: 'b\u0000c', version: { blockNum: 3, txNum: 0 } }, { key: 'z', version: { blockNum: 0, txNum: 0 } }, { key: 'big', version: { blockNum: 300_000, txNum: 499 } }],
    rangeQueries: [
      { startKey: 'k0', endKey: 'k9', itrExhausted: true, reads: [{ key: 'k1', version: { blockNum: 2, txNum: 5 } }] },
      { startKey: '', endKey: '', itrExhausted: false, reads: [] },
    ],
  };
  const writeSet: WriteSet = {
    writes: [{ key: 'a', isDelete: false, value: Buffer.from('{"x":1}') }, { key: 'd', isDelete: true, value: null }],
    metadataWrites: [{ key: 'a', entries: [{ name: 'VALIDATION_PARAMETER', value: Buffer.from([1, 2, 3]) }] }, { key: 'e', entries: [] }],
  };
  const ours = encodeRwSet('oadr-dr', readSet, writeSet);
  assert.deepEqual(Buffer.from(ours), Buffer.from(encodeTxRwSet('oadr-dr', readSet, writeSet)));
  assert.deepEqual(decodeTxRwSet(ours, 'oadr-dr'), decodeTxRwSet(encodeTxRwSet('oadr-dr', readSet, writeSet), 'oadr-dr'));
  const empty = { reads: [], rangeQueries: [] };
  assert.deepEqual(Buffer.from(encodeRwSet('cc', empty, { writes: [], metadataWrites: [] })), Buffer.from(encodeTxRwSet('cc', empty, { writes: [], metadataWrites: [] })));
});

test('encodeTransactionPayload + encodeEnvelope: the bytes of buildTransactionEnvelope, one and two endorsements', async () => {
  const args = ['recordEnergy', 'smartmeter:1', '2026-01-02', '[1,2,3]'];
  const time = new Date('2026-11-21T05:00:00.5Z');
  const signed = await createSignedProposal({ channelId: 'mychannel', chaincodeName: 'oadr-dr', txId, args, creator, nonce, timestamp: timestampOf(time) });
  const decoded = decodeProposal(signed);
  const proposal = encodeProposal({ channelId: 'mychannel', chaincodeName: 'oadr-dr', txId, args, creator, nonce, timestamp: { seconds: Math.floor(time.getTime() / 1000), nanos: 5e8 } });
  const endorsed = await buildProposalResponse({
    proposalHash: decoded.proposalHash,
    chaincodeName: 'oadr-dr',
    txId,
    response: { status: 200, message: '', payload: Buffer.from('{}') },
    results: encodeRwSet('oadr-dr', { reads: [], rangeQueries: [] }, { writes: [{ key: 'k', isDelete: false, value: Buffer.from('v') }], metadataWrites: [] }),
    event: { name: 'EnergyRecorded', payload: Buffer.from('{}') },
    endorser: serializeIdentity('Org1MSP', 'peer0'),
    sign: async () => Buffer.alloc(71, 1),
  });
  const prp = Buffer.from(endorsed.getPayload_asU8());
  const endorsements = [
    { endorser: serializeIdentity('Org1MSP', 'peer0'), signature: Buffer.alloc(71, 1) },
    { endorser: serializeIdentity('Org2MSP', 'peer0'), signature: Buffer.alloc(70, 2) },
  ];
  for (const list of [endorsements.slice(0, 1), endorsements]) {
    const responses = list.map((e) => {
      const r = new peer.ProposalResponse();
      r.setPayload(prp);
      const en = new peer.Endorsement();
      en.setEndorser(e.endorser);
      en.setSignature(e.signature);
      r.setEndorsement(en);
      return r;
    });
    const signature = Buffer.alloc(72, 9);
    const theirs = await buildTransactionEnvelope(decoded, responses, async () => signature);
    const payload = encodeTransactionPayload({ proposal, proposalResponsePayload: prp, endorsements: list });
    assert.deepEqual(Buffer.from(payload), Buffer.from(theirs.getPayload_asU8()));
    const envelope = encodeEnvelope(payload, signature);
    assert.deepEqual(Buffer.from(envelope), Buffer.from(theirs.serializeBinary()));
    const tx = decodeTransaction(envelope);
    assert.equal(tx.txId, txId);
    assert.deepEqual(tx.action?.args, args);
    assert.equal(tx.action?.endorsements.length, list.length);
    assert.equal(tx.action?.event?.name, 'EnergyRecorded');
  }
});

test('encodeProposalResponsePayload: the payload bytes of buildProposalResponse, with and without an event, error-free and empty fields', async () => {
  const base = {
    proposalHash: Buffer.alloc(32, 3),
    chaincodeName: 'oadr-dr',
    txId,
    results: encodeRwSet('oadr-dr', { reads: [{ key: 'a', version: { blockNum: 1, txNum: 2 } }], rangeQueries: [] }, { writes: [], metadataWrites: [] }),
  };
  const variants = [
    { ...base, response: { status: 200, message: '', payload: Buffer.from('{"ok":true}') }, event: { name: 'EnergyRecorded', payload: Buffer.from('{"m":1}') } },
    { ...base, response: { status: 200, message: 'done', payload: Buffer.alloc(0) } },
    { ...base, response: { status: 200, message: '', payload: Buffer.alloc(0) }, event: { name: 'E', payload: Buffer.alloc(0) } },
  ];
  for (const v of variants) {
    const theirs = await buildProposalResponse({ ...v, endorser: creator, sign: async () => Buffer.alloc(70) });
    assert.deepEqual(Buffer.from(encodeProposalResponsePayload(v)), Buffer.from(theirs.getPayload_asU8()));
  }
});
