/**
 * The demo: `npm start` runs the gateway with a fleet of simulated households and a battery site
 * on a demo clock, replaying the thesis's household experiment (section 5.6) and scaling it.
 * Public surface: the command, the runner (for tests) and their types. demo/ may depend on vtn/,
 * ven/, xmpp/ (its local Prosody) and certs/ (that Prosody's certificates), through their index.
 */
export { runStartCommand, START_USAGE, DEMO_LOG_FILE, type StartCommandIo } from './start-command.ts';
export { runDemo, tokenTable, BATTERY_SITE, DEMO_STATE_FILE, type DemoOptions, type DemoResult, type TokenRow } from './run-demo.ts';
export { seededRandom } from './scenario.ts';
export { DemoError, DEMO_ERROR_CODES, type DemoErrorCode } from './errors.ts';
