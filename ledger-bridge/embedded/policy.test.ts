import assert from 'node:assert/strict';
import { test } from 'node:test';
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
