import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { skipDisabledDebugLogs } from './shim-logging.ts';

const require = createRequire(import.meta.url);
interface Logger {
  level: string;
  debug(...args: unknown[]): unknown;
  write(info: unknown): unknown;
}
const shimLogger = require('fabric-shim/lib/logger.js') as { getLogger(name: string): Logger };

test('a debug call of the shim stub logger skips winston unless debug is enabled', (t) => {
  skipDisabledDebugLogs();
  skipDisabledDebugLogs(); // idempotent: wraps once
  const logger = shimLogger.getLogger('lib/stub.js');
  const level = logger.level;
  t.after(() => { logger.level = level; });
  const write = t.mock.method(logger, 'write', () => true);

  logger.level = 'info';
  logger.debug('getState called with key:%s', 'k');
  assert.equal(write.mock.callCount(), 0, 'at info level nothing reaches winston');

  logger.level = 'debug';
  logger.debug('getState called with key:%s', 'k');
  assert.equal(write.mock.callCount(), 1, 'at debug level the message is logged as before');
});
