/**
 * Fabric contract metadata (the document `org.hyperledger.fabric:GetMetadata` returns), generated
 * from the transaction table. fabric-contract-api 2.5 without decorators would introspect the class
 * and tag EVERY method SUBMIT with anonymous `argN` string parameters; supplying this metadata (to
 * ChaincodeFromContract in server.ts, or as META-INF/metadata.json) marks queries EVALUATE and names
 * the parameters. The supplied metadata must list every contract, including the system contract.
 */
import { CONTRACT_NAME } from './dr-contract.ts';
import { TRANSACTIONS } from './transactions.ts';

export const CONTRACT_TITLE = 'oadr-ledger demand-response contract';
export const CONTRACT_VERSION = '0.1.0';
const SYSTEM_CONTRACT = 'org.hyperledger.fabric';

export function contractMetadata() {
  const info = { title: CONTRACT_TITLE, version: CONTRACT_VERSION };
  return {
    $schema: 'https://hyperledger.github.io/fabric-chaincode-node/main/api/contract-schema.json',
    info,
    contracts: {
      [CONTRACT_NAME]: {
        name: CONTRACT_NAME,
        info,
        transactions: TRANSACTIONS.map((t) => ({
          name: t.name,
          // `tag`, as @Transaction() writes it and the contract schema names it.
          tag: t.readOnly ? ['EVALUATE'] : ['SUBMIT', 'submitTx'],
          ...(t.params.length > 0
            ? { parameters: t.params.map((q) => ({ name: q.name, description: q.description, schema: { type: 'string' } })) }
            : {}),
          returns: { type: 'string' },
        })),
      },
      [SYSTEM_CONTRACT]: {
        name: SYSTEM_CONTRACT,
        info: { title: '', version: '' },
        transactions: [{ name: 'GetMetadata', tag: ['EVALUATE'] }],
      },
    },
    components: { schemas: {} },
  };
}
