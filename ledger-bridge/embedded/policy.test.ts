import assert from 'node:assert/strict';
import { test } from 'node:test';
import { common, msp } from '@hyperledger/fabric-protos';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { decodePolicy, encodePolicy, endorsingOrgs, evaluatePolicy, formatPolicy, parsePolicy, PolicyParseError, type Role, type Signer } from './policy.ts';

const peerOf = (mspId: string): Signer => ({ mspId, roles: new Set<Role>(['member', 'peer']) });
const clientOf = (mspId: string): Signer => ({ mspId, roles: new Set<Role>(['member', 'client']) });

test('parses AND / OR / OutOf and formats them back', () => {
  for (const text of ["AND('Org1MSP.peer','Org2MSP.peer')", "OR('Org1MSP.peer','Org2MSP.member')", "OutOf(2,'A.peer','B.peer','C.peer')"]) {
    assert.equal(formatPolicy(parsePolicy(text)), text);
  }
  assert.deepEqual(parsePolicy(' and( "Org1MSP.PEER" , Org2MSP.peer ) '), parsePolicy("AND('Org1MSP.peer','Org2MSP.peer')"));
  for (const bad of ["AND('Org1MSP')", "XOR('A.peer')", "OutOf(3,'A.peer','B.peer')", "AND('A.peer'", "'A.peer' extra"]) {
    assert.throws(() => parsePolicy(bad), PolicyParseError, bad);
  }
});

test('evaluates as cauthdsl: roles, and one signer satisfies one principal only', () => {
  const and = parsePolicy("AND('Org1MSP.peer','Org2MSP.peer')");
  assert.equal(evaluatePolicy(and, [peerOf('Org1MSP'), peerOf('Org2MSP')]), true);
  assert.equal(evaluatePolicy(and, [peerOf('Org1MSP')]), false);
  assert.equal(evaluatePolicy(and, [peerOf('Org1MSP'), clientOf('Org2MSP')]), false, 'a client is not a peer');
  const twice = parsePolicy("AND('Org1MSP.peer','Org1MSP.peer')");
  assert.equal(evaluatePolicy(twice, [peerOf('Org1MSP')]), false, 'the same signature counts once');
  assert.equal(evaluatePolicy(twice, [peerOf('Org1MSP'), peerOf('Org1MSP')]), true);
  assert.equal(evaluatePolicy(parsePolicy("OR('Org1MSP.peer','Org2MSP.member')"), [clientOf('Org2MSP')]), true);
  assert.equal(evaluatePolicy(parsePolicy("OutOf(2,'A.peer','B.peer','C.peer')"), [peerOf('C'), peerOf('A')]), true);
  assert.equal(evaluatePolicy(parsePolicy("OutOf(2,'A.peer','B.peer','C.peer')"), [peerOf('C')]), false);
});

test('endorsingOrgs picks a set that can satisfy the policy', () => {
  assert.deepEqual(endorsingOrgs(parsePolicy("AND('Org1MSP.peer','Org2MSP.peer')")), ['Org1MSP', 'Org2MSP']);
  assert.deepEqual(endorsingOrgs(parsePolicy("OR('Org2MSP.peer','Org1MSP.peer')")), ['Org2MSP']);
});

test('SignaturePolicyEnvelope: our encoding round-trips, and fabric-shim KeyEndorsementPolicy bytes decode', () => {
  const policy = parsePolicy("OutOf(2,'Org1MSP.peer','Org2MSP.member','Org3MSP.peer')");
  assert.deepEqual(decodePolicy(encodePolicy(policy)), policy);
  const kep = new KeyEndorsementPolicy();
  kep.addOrgs('PEER', 'Org2MSP', 'Org1MSP');
  const decoded = decodePolicy(kep.getPolicy());
  assert.equal(evaluatePolicy(decoded, [peerOf('Org1MSP'), peerOf('Org2MSP')]), true);
  assert.equal(evaluatePolicy(decoded, [peerOf('Org2MSP')]), false);
  assert.throws(() => decodePolicy(Uint8Array.from([0x12, 0x05, 0x01])));
});

test('nested rules: a rule that fails gives its signers back, a rule that holds keeps them', () => {
  // OR(AND(A, B), A) with A alone: the AND fails, and A is still free for the second rule.
  assert.equal(evaluatePolicy(parsePolicy("OR(AND('A.peer','B.peer'),'A.peer')"), [peerOf('A')]), true);
  // AND(OR(A, A), A): as in cauthdsl, the OR evaluates both its rules (even past n = 1) and keeps
  // every A they used, so the AND's own A needs a third one.
  const nested = parsePolicy("AND(OR('A.peer','A.peer'),'A.peer')");
  assert.equal(evaluatePolicy(nested, [peerOf('A'), peerOf('A')]), false);
  assert.equal(evaluatePolicy(nested, [peerOf('A'), peerOf('A'), peerOf('A')]), true);
  assert.equal(evaluatePolicy(parsePolicy("OutOf(2,'A.peer','B.peer','C.peer')"), [peerOf('B'), peerOf('C')]), true, 'any n of the rules');
  assert.equal(evaluatePolicy(parsePolicy("'A.admin'"), [peerOf('A')]), false, 'a bare principal needs its role');
  assert.equal(evaluatePolicy(parsePolicy("'A.peer'"), []), false);
  assert.equal(evaluatePolicy(parsePolicy("'A.peer'"), [peerOf('B')]), false, 'a peer of another MSP');
});

test('endorsingOrgs: the first n rules of OutOf, each MSP once; the preferred orgs (those that endorsed already) first', () => {
  assert.deepEqual(endorsingOrgs(parsePolicy("OutOf(2,'C.peer','A.peer','B.peer')")), ['C', 'A']);
  assert.deepEqual(endorsingOrgs(parsePolicy("OutOf(2,'C.peer','A.peer','B.peer')"), ['B']), ['B', 'C']);
  assert.deepEqual(endorsingOrgs(parsePolicy("OR('Org1MSP.peer','Org2MSP.peer')"), ['Org2MSP']), ['Org2MSP']);
  assert.deepEqual(endorsingOrgs(parsePolicy("OR(AND('A.peer','B.peer'),AND('C.peer','D.peer'))"), ['D']), ['D', 'C']);
  assert.deepEqual(endorsingOrgs(parsePolicy("AND('A.peer','A.admin',OR('B.peer','C.peer'))")), ['A', 'B']);
  assert.deepEqual(endorsingOrgs(parsePolicy("'A.member'")), ['A']);
});

test('parse errors name what is wrong and where', () => {
  const message = (text: string): string => {
    try {
      parsePolicy(text);
    } catch (err) {
      assert.ok(err instanceof PolicyParseError);
      assert.equal(err.name, 'PolicyParseError');
      return err.message;
    }
    return assert.fail(`${text} parsed`);
  };
  assert.match(message("AND('A.peer"), /unterminated quote/);
  assert.match(message("OutOf(x,'A.peer')"), /OutOf needs a count first at offset 7/);
  assert.match(message("OutOf(0,'A.peer')"), /OutOf\(0\) over 1 rules/);
  assert.match(message("AND('A.peer' 'B.peer')"), /expected '\)' at offset 13/);
  assert.match(message('AND(,)'), /expected a name at offset 4/);
  assert.match(message("'.peer'"), /principal ".peer" is not MSP.role/);
  assert.match(message("'A.king'"), /principal "A.king" is not MSP.role with role one of member, admin, client, peer, orderer/);
  assert.deepEqual(parsePolicy("\tOR(\n'A.client' ,\r\n'B.orderer')\n"), { type: 'outOf', n: 1, rules: [{ type: 'signedBy', principal: { mspId: 'A', role: 'client' } }, { type: 'signedBy', principal: { mspId: 'B', role: 'orderer' } }] });
  assert.deepEqual(parsePolicy(" OutOf( 1 , 'A.peer' ) "), parsePolicy("OR('A.peer')"));
  assert.equal(formatPolicy(parsePolicy("OutOf(12,'A.peer','A.peer','A.peer','A.peer','A.peer','A.peer','A.peer','A.peer','A.peer','A.peer','A.peer','A.peer')")).startsWith('AND('), true);
  assert.match(message("OutOf(1a,'A.peer')"), /OutOf needs a count first/);
  assert.match(message("OutOf(a1,'A.peer')"), /OutOf needs a count first/);
  assert.match(message("AND(@'A.peer')"), /expected a name at offset 4/);
  assert.deepEqual(parsePolicy("'Org.1.admin'"), { type: 'signedBy', principal: { mspId: 'Org.1', role: 'admin' } }, 'the role after the last dot');
});

test('SignaturePolicyEnvelope: every role survives the round trip; malformed envelopes are refused', () => {
  const all = parsePolicy("OutOf(3,'A.member','A.admin','B.client','B.peer','C.orderer',AND('A.member','C.orderer'))");
  assert.deepEqual(decodePolicy(encodePolicy(all)), all);
  // A principal named twice is one identity of the envelope.
  const twice = common.SignaturePolicyEnvelope.deserializeBinary(encodePolicy(parsePolicy("AND('A.peer','B.peer','A.peer')")));
  assert.equal(twice.getIdentitiesList().length, 2);
  assert.deepEqual(decodePolicy(twice.serializeBinary()), parsePolicy("AND('A.peer','B.peer','A.peer')"));
  const envelope = (build: (e: common.SignaturePolicyEnvelope) => void): Uint8Array => {
    const e = common.SignaturePolicyEnvelope.deserializeBinary(encodePolicy(parsePolicy("'A.peer'")));
    build(e);
    return e.serializeBinary();
  };
  // Only ROLE principals; a role number beyond orderer; a signed_by index with no identity; no rule.
  assert.throws(() => decodePolicy(envelope((e) => e.getIdentitiesList()[0]?.setPrincipalClassification(msp.MSPPrincipal.Classification.IDENTITY))), /only ROLE principals/);
  assert.throws(() => decodePolicy(envelope((e) => {
    const role = new msp.MSPRole();
    role.setMspIdentifier('A');
    role.setRole(9 as never);
    e.getIdentitiesList()[0]?.setPrincipal(role.serializeBinary());
  })), /unknown MSP role 9/);
  assert.throws(() => decodePolicy(envelope((e) => e.getRule()?.setSignedBy(1))), /signed_by 1 names no identity/);
  assert.throws(() => decodePolicy(envelope((e) => e.clearRule())), /empty or too deep/);
  // Nesting: 32 levels are read, 34 are refused.
  const deep = (levels: number): string => (levels === 0 ? "'A.peer'" : `OR(${deep(levels - 1)})`);
  assert.deepEqual(decodePolicy(encodePolicy(parsePolicy(deep(32)))), parsePolicy(deep(32)));
  assert.throws(() => decodePolicy(encodePolicy(parsePolicy(deep(34)))), /empty or too deep/);
});
