/**
 * fabric-shim's contract dispatcher checks every argument of every transaction against the contract
 * metadata's JSON schema (`DataMarshall.handleParameters`), and on the way it builds four debug strings
 * per argument whether or not debug logging is on (`util.inspect` of the argument, `JSON.stringify` of
 * the schema with all of the contract's component schemas) and hands Ajv a freshly built schema object,
 * which Ajv can only find in its cache by serializing it again. For a `recordEnergy` call that is about
 * 50 µs of a transaction's CPU, for the same answer each time.
 *
 * `cacheShimParameterValidators()` replaces `handleParameters` with the same steps in the same order —
 * same count check and message, same schema per parameter, same `fromWireBuffer`, the same Ajv
 * instance's compiled validator (compiled once per function and parameter and kept), same error text —
 * minus the strings nobody logs. While the shim's datamarshall logger has debug enabled the original
 * runs unchanged. Idempotent; affects this process only (a Fabric peer's chaincode process is untouched).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface ParameterMetadata {
  readonly schema: { readonly type?: unknown; readonly $ref?: unknown };
}
interface TransactionMetadata {
  readonly parameters?: readonly ParameterMetadata[];
}
interface Validator {
  (data: unknown): boolean;
  errors?: { message?: string }[] | null;
}
interface DataMarshall {
  ajv: { compile(schema: object): Validator };
  components: unknown;
  fromWireBuffer(value: unknown, schema: object, loggerPrefix: string): { value: unknown; validateData: unknown };
  handleParameters(fn: TransactionMetadata, parameters: readonly unknown[], loggerPrefix: string): unknown[];
}
interface Logger {
  isDebugEnabled?: () => boolean;
  isLevelEnabled?: (level: string) => boolean;
}

const PATCHED = Symbol.for('oadr-ledger.shim-parameters');

export function cacheShimParameterValidators(): void {
  const shimDir = require.resolve('fabric-shim').replace(/index\.js$/, '');
  const DataMarshallClass = require(`${shimDir}lib/contract-spi/datamarshall.js`) as { prototype: DataMarshall & { [PATCHED]?: true } };
  const logger = (require(`${shimDir}lib/logger.js`) as { getLogger(name: string): Logger }).getLogger('contracts-spi/datamarshall.js');
  const proto = DataMarshallClass.prototype;
  if (proto[PATCHED]) return;
  const original = proto.handleParameters;
  const debugOn = () => logger.isDebugEnabled?.() ?? logger.isLevelEnabled?.('debug') ?? true;
  const validators = new WeakMap<DataMarshall, WeakMap<TransactionMetadata, (Validator | undefined)[]>>();

  proto.handleParameters = function handleParameters(this: DataMarshall, fn, parameters, loggerPrefix) {
    const expected = fn.parameters;
    if (!expected || expected.length !== parameters.length || debugOn()) return original.call(this, fn, parameters, loggerPrefix);
    let perFn = validators.get(this);
    if (!perFn) validators.set(this, (perFn = new WeakMap()));
    let cached = perFn.get(fn);
    if (!cached) perFn.set(fn, (cached = []));
    const out: unknown[] = [];
    for (let i = 0; i < expected.length; i++) {
      const param = expected[i] as ParameterMetadata;
      if (!param.schema.type && !param.schema.$ref) throw new Error(`Incorrect type information ${JSON.stringify(param.schema)}`);
      const schema = { properties: { prop: param.schema }, components: { schemas: this.components } };
      let validator = cached[i];
      if (!validator) cached[i] = validator = this.ajv.compile(schema);
      const { value, validateData } = this.fromWireBuffer(parameters[i], schema, loggerPrefix);
      if (!validator({ prop: validateData })) {
        const errors = JSON.stringify((validator.errors ?? []).map((err) => err.message));
        throw new Error(`Unable to validate parameter due to ${errors}`);
      }
      out.push(value);
    }
    return out;
  };
  proto[PATCHED] = true;
}
