/**
 * Governance of the program parameters: who must endorse a change of them. The contract writes a
 * key-level (state-based) endorsement policy on the `program` key with every `setProgramParams`:
 * `OutOf(governanceQuorum, 'M1.peer', 'M2.peer', …)` over the parameters' `governanceMspIds`, as
 * fabric-shim's `KeyEndorsementPolicy` writes it. A committing peer then validates the next write of
 * `program` against that policy instead of the chaincode's: a change endorsed by one org only is
 * committed invalid (ENDORSEMENT_POLICY_FAILURE), whatever the chaincode-level policy allows. The
 * policy in force for a change is the one committed before it, so changing the governance orgs needs
 * the consent of the orgs that govern now.
 */
import { common } from '@hyperledger/fabric-protos';
import { KeyEndorsementPolicy } from 'fabric-shim';
import type { ProgramParams } from './params.ts';

/** The `common.SignaturePolicyEnvelope` bytes of the governance policy the parameters name. */
export function governancePolicy(p: Pick<ProgramParams, 'governanceMspIds' | 'governanceQuorum'>): Uint8Array {
  const policy = new KeyEndorsementPolicy();
  policy.addOrgs('PEER', ...p.governanceMspIds);
  // KeyEndorsementPolicy asks for every org listed; the quorum may ask for fewer.
  const envelope = common.SignaturePolicyEnvelope.deserializeBinary(policy.getPolicy());
  envelope.getRule()?.getNOutOf()?.setN(p.governanceQuorum);
  return envelope.serializeBinary();
}
