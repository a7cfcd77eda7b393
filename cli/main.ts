/**
 * `oadr-ledger` command line: dispatches to the subcommands. Started by `cli/oadr-ledger.js`,
 * which has already checked the Node.js version.
 */
import { runCertsCommand } from '../certs/index.ts';
import { runConformanceCommand } from '../conformance/index.ts';
import { startUvamBridge } from '../iec104/index.ts';
import { runStartCommand } from '../demo/index.ts';
import { runLedgerCommand, runLedgerServe } from '../ledger-bridge/index.ts';
import { runVenCommand } from '../ven/index.ts';
import { runVtnCommand } from '../vtn/index.ts';
import { readConfigFile } from './config-file.ts';
import { configFromEnv, secretFromEnv, VTN_ENV_SETTINGS } from './env-config.ts';
import { createLogger } from './logger.ts';
import { runOadrCommand } from './oadr-command.ts';

/**
 * Exit codes of every command (README, "Exit codes"): 0 done or help asked (a bare command that has
 * subcommands is a request for help); 1 the command ran and failed (invalid input, a check that
 * failed, a run-time failure); 2 a usage or configuration error (command line, --config file or
 * OADR_* variable), with what to give instead.
 */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

interface Subcommand {
  readonly summary: string;
  readonly run: (args: string[]) => Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  start: { summary: 'the gateway with a demo fleet on a demo clock: the thesis\'s DR day, then 200 households and a battery (npm start); --no-demo: the production VTN', run: runStart },
  oadr: { summary: 'decode, encode and validate OpenADR 2.0b messages (decode | encode | validate FILE)', run: runOadrCommand },
  vtn: { summary: 'run the VTN: OpenADR 2.0b over HTTPS with mutual TLS (dev PKI created in DATA_DIR/pki), pull and push, the admin API and the embedded ledger, or a Fabric network ([--data-dir DIR] [--port N] [--insecure-http] [--iec104-port N] [--ledger fabric --fabric-profile FILE --fabric-identity DIR])', run: runVtn },
  ven: { summary: 'run a VEN against any OpenADR 2.0b VTN (--vtn-url URL --ven-name NAME [--device …])', run: runVen },
  ledger: {
    summary: 'the embedded ledger: verify | blocks --data-dir DIR; serve it to Fabric clients over the Gateway gRPC API (serve)',
    run: (argv) => (argv[0] === 'serve' ? runLedgerServe(argv.slice(1)) : runLedgerCommand(argv)),
  },
  certs: { summary: 'create a development PKI, issue identities, print 2.0b fingerprints (init | issue | fingerprint)', run: (argv) => runCertsCommand(argv) },
  conformance: { summary: 'the OpenADR 2.0b conformance suite against any VTN (vtn --url URL) or VEN (ven --listen HOST:PORT)', run: runConformance },
};

/** The conformance suite, with the environment its hook commands inherit and the tool's version. */
async function runConformance(argv: string[]): Promise<number> {
  const pkg = await import('../package.json', { with: { type: 'json' } });
  return runConformanceCommand(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, tool: `oadr-ledger ${pkg.default.version}` });
}

/** The VEN with OADR_XMPP_PASSWORD (or its _FILE) from the environment, for SCRAM over XMPP. */
async function runVen(argv: string[]): Promise<number> {
  let xmppPassword: string | undefined;
  try {
    xmppPassword = secretFromEnv(process.env, 'OADR_XMPP_PASSWORD');
  } catch (err) {
    process.stderr.write(`oadr-ledger ven: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  return runVenCommand(argv, { log: createLogger().child({ component: 'ven' }), readConfig: readConfigFile, ...(xmppPassword === undefined ? {} : { xmppPassword }) });
}

/** `npm start`: the demo, or with --no-demo the production VTN (`vtn` with the other options). */
async function runStart(argv: string[]): Promise<number> {
  if (argv.includes('--no-demo')) return runVtn(argv.filter((a) => a !== '--no-demo'));
  let adminToken: string | undefined;
  try {
    adminToken = secretFromEnv(process.env, 'OADR_ADMIN_TOKEN');
  } catch (err) {
    process.stderr.write(`oadr-ledger start: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  return runStartCommand(argv, { logger: (file) => createLogger(process.env, file), ...(adminToken === undefined ? {} : { adminToken }) });
}

/** The VTN with its `OADR_*` environment (defaults < --config file < environment < flags). */
async function runVtn(argv: string[]): Promise<number> {
  let config: Record<string, unknown>;
  let adminToken: string | undefined;
  let xmppPassword: string | undefined;
  let storePassword: string | undefined;
  try {
    config = configFromEnv(process.env, VTN_ENV_SETTINGS);
    adminToken = secretFromEnv(process.env, 'OADR_ADMIN_TOKEN');
    xmppPassword = secretFromEnv(process.env, 'OADR_XMPP_PASSWORD');
    storePassword = secretFromEnv(process.env, 'OADR_STORE_PASSWORD');
  } catch (err) {
    process.stderr.write(`oadr-ledger vtn: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  return runVtnCommand(argv, { config, logger: createLogger(), readConfig: readConfigFile, bridges: [startUvamBridge], ...(adminToken === undefined ? {} : { adminToken }), ...(xmppPassword === undefined ? {} : { xmppPassword }), ...(storePassword === undefined ? {} : { storePassword }) });
}

export function usage(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((k) => k.length));
  const lines = Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(width)}  ${s.summary}`);
  return [
    'Usage: oadr-ledger <command> [options]',
    '',
    'OpenADR 2.0b VTN/VEN gateway with demand-response accounting on a permissioned ledger.',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `oadr-ledger <command> --help` for the options of a command.',
    'Exit codes: 0 done or help, 1 failed (invalid input, a failed check, a run-time failure), 2 usage or configuration error.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return EXIT_OK;
  }
  if (command === '--version' || command === '-v') {
    const pkg = await import('../package.json', { with: { type: 'json' } });
    process.stdout.write(`${pkg.default.version}\n`);
    return EXIT_OK;
  }
  const sub = SUBCOMMANDS[command];
  if (sub === undefined) {
    process.stderr.write(`oadr-ledger: unknown command '${command}'\n\n${usage()}`);
    return EXIT_USAGE;
  }
  return sub.run(rest);
}
