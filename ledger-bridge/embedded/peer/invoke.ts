/**
 * Runs one transaction of a fabric-contract-api `Contract` exactly as the Node chaincode runtime does on
 * a peer: through fabric-shim's own `ChaincodeFromContract` (the dispatcher `fabric-chaincode-node start`
 * builds from the package's contracts and `META-INF/metadata.json`). That gives, for free and faithfully:
 * - transaction discovery without decorators: every own method of the contract class's prototype whose
 *   name does not start with `_` (inherited methods are NOT transactions), or the transactions listed in
 *   the supplied metadata;
 * - argument checking: "Expected N parameters, but M have been supplied" when the count differs from the
 *   method's declared parameters after `ctx` (`fn.length - 1`, so default/rest parameters shorten it);
 * - context set-up (`createContext`, `setChaincodeStub`, `setClientIdentity(new ClientIdentity(stub))`,
 *   `ctx.logging`), then `beforeTransaction`, `aroundTransaction` (→ the method), `afterTransaction`;
 * - unknown function → `unknownTransaction` → "You've asked to invoke a function that does not exist: x";
 * - the result serialised by `JSONSerializer` (strings and numbers as text, objects as JSON, undefined as
 *   an empty payload), any thrown error turned into status 500 with the error's message.
 */

import { Contract, JSONSerializer } from 'fabric-contract-api';
import type { ChaincodeStub } from 'fabric-shim';
import { createRequire } from 'node:module';
import { skipDisabledDebugLogs } from '../../../chaincode/index.ts';

const require = createRequire(import.meta.url);

interface ChaincodeResponse {
  status: number;
  message?: string;
  payload?: Uint8Array;
}

interface Dispatcher {
  Invoke(stub: ChaincodeStub): Promise<ChaincodeResponse>;
}

type DispatcherConstructor = new (
  contractClasses: unknown[],
  serializers: unknown,
  metadata?: object,
  title?: string,
  version?: string,
) => Dispatcher;

const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract.js') as DispatcherConstructor;

interface Logger {
  silent?: boolean;
}
const shimLogger = require('fabric-shim/lib/logger.js') as { getLogger(name: string): Logger };
const contractLogger = require('fabric-contract-api/lib/logger.js') as { getLogger(name: string): Logger };

const SERIALIZERS = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };

export interface TransactionResponse {
  readonly status: number;
  readonly message: string;
  readonly payload: Buffer;
}

export interface ContractRuntimeOptions {
  /** Contents of the chaincode's `META-INF/metadata.json`, if it has one. */
  readonly metadata?: object;
  /** Silence fabric-shim's error log of failed transactions (winston, to the console). Default true. */
  readonly quiet?: boolean;
}

const runtimes = new WeakMap<Contract, Dispatcher>();

function quietLogs(): void {
  // The loggers are module singletons created when the modules load; `silent` is winston's own switch.
  shimLogger.getLogger('contracts-spi/chaincodefromcontract.js').silent = true;
  shimLogger.getLogger('contracts-spi/datamarshall.js').silent = true;
  contractLogger.getLogger('./lib/contract.js').silent = true;
}

function runtimeFor(contract: Contract, options: Readonly<ContractRuntimeOptions>): Dispatcher {
  let runtime = runtimes.get(contract);
  if (!runtime) {
    // The dispatcher instantiates the classes it is given; hand it a "class" whose constructor returns
    // this very instance, so the caller's contract (with its constructor options) is the one that runs.
    const Bound = function BoundContract() {
      return contract;
    };
    const metadata = options.metadata ? structuredClone(options.metadata) : {};
    runtime = new ChaincodeFromContract([Bound], SERIALIZERS, metadata);
    runtimes.set(contract, runtime);
  }
  return runtime;
}

/**
 * Invokes `fn` (the first argument of the stub's args, optionally `contractName:fn`) on `contract`.
 * Never throws for a chaincode error: it answers `{ status: 500, message }` as the runtime does.
 */
export async function runContractTransaction(
  contract: Contract,
  stub: ChaincodeStub,
  options: Readonly<ContractRuntimeOptions> = {},
): Promise<TransactionResponse> {
  if (options.quiet ?? true) quietLogs();
  skipDisabledDebugLogs();
  const response = await runtimeFor(contract, options).Invoke(stub);
  return {
    status: response.status,
    message: response.message ?? '',
    payload: response.payload ? Buffer.from(response.payload) : Buffer.alloc(0),
  };
}
