/**
 * fabric-shim and fabric-contract-api log through winston, and winston runs a message through its
 * whole format chain (timestamp, metadata, colours, printf) BEFORE the console transport drops it for
 * its level. The shim calls `logger.debug` on every `getState` and iterator close, so at the default
 * `info` level each state read pays about 5 µs of formatting for a line nobody sees (a third of a
 * 100,000-customer settlement on the test ledger). Setting winston's `silent` still costs the stream
 * machinery (about 1 µs a call) and would also hide errors.
 *
 * `skipDisabledDebugLogs()` wraps `debug` of the shim's and the contract API's loggers so that a
 * debug call returns at once unless the logger's level (CORE_CHAINCODE_LOGGING_LEVEL) enables
 * debug; at debug level the original method runs unchanged. Idempotent; it changes no output.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface WinstonLogger {
  level: string;
  debug(...args: unknown[]): unknown;
  isDebugEnabled(): boolean;
}
interface LoggerModule {
  getLogger(name: string): WinstonLogger;
}

/** The loggers that log at debug level on per-key or per-transaction paths. */
const SHIM_LOGGERS = ['lib/stub.js', 'lib/iterators.js', 'lib/handler.js', 'contracts-spi/chaincodefromcontract.js', 'contracts-spi/datamarshall.js'];
const CONTRACT_API_LOGGERS = ['./lib/contract.js', './lib/jsontransactionserializer.js'];

const wrapped = new WeakSet<WinstonLogger>();

function guard(logger: WinstonLogger): void {
  if (wrapped.has(logger)) return;
  wrapped.add(logger);
  const original = logger.debug;
  let level: string | undefined; // the level `enabled` was computed for (getLogger may reset it)
  let enabled = false;
  logger.debug = function debugIfEnabled(this: WinstonLogger, ...args: unknown[]) {
    if (this.level !== level) {
      level = this.level;
      enabled = this.isDebugEnabled();
    }
    return enabled ? original.apply(this, args) : this;
  };
}

let applied = false;

export function skipDisabledDebugLogs(): void {
  if (applied) return;
  applied = true;
  const shim = require('fabric-shim/lib/logger.js') as LoggerModule;
  const api = require('fabric-contract-api/lib/logger.js') as LoggerModule;
  for (const name of SHIM_LOGGERS) guard(shim.getLogger(name));
  for (const name of CONTRACT_API_LOGGERS) guard(api.getLogger(name));
}
