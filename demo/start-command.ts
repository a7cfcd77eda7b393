/**
 * `oadr-ledger start` (`npm start`): the gateway with the demo fleet on a demo clock, on plain HTTP
 * on loopback; `--no-demo` is the production VTN (`oadr-ledger vtn`, TLS by default), which cli/
 * runs instead.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { onStopSignal, type Logger } from '../vtn/index.ts';
import { runDemo } from './run-demo.ts';

export const DEMO_LOG_FILE = 'gateway.log';

export const START_USAGE = `Usage: oadr-ledger start [--data-dir DIR] [--port N] [--households N] [--speed X] [--no-xmpp]
       oadr-ledger start --no-demo [oadr-ledger vtn options]

Starts the gateway (the VTN with the embedded ledger, the admin API and the dashboard) and a demo
fleet on a demo clock: the thesis's DR day of two households (household 1 with the household EMS),
then the same kind of event on N households and a battery site, ending with the DR tokens per
customer from the ledger. Each site is behind its own VEN on loopback, over HTTP, or over XMPP
through a Prosody the demo runs when Debian's prosody is installed (household 2 and every third
household of the fleet). The dashboard URL is printed first. Ctrl-C stops gracefully; a second
start on the same DIR continues where it stopped.

  --data-dir DIR   the gateway's and the demo's data (default ./data/demo); the log is DIR/${DEMO_LOG_FILE}
  --port N         the gateway's port on 127.0.0.1 (default 8080)
  --households N   households in the second phase (default 200; 0: the thesis's two only)
  --speed X        demo seconds per real second at most (default 600: the 12-hour event in ~70 s)
  --no-xmpp        every VEN over HTTP, no Prosody even when it is installed
  --no-demo        the production VTN instead: every other option as 'oadr-ledger vtn --help' lists

Exit codes: 0 stopped, 1 failed, 2 usage error.
`;

export interface StartCommandIo {
  /** The one logger of the process, writing to `file` (created by cli/). */
  readonly logger: (file: string) => Logger;
  /** OADR_ADMIN_TOKEN, read by cli/. */
  readonly adminToken?: string;
  /** Resolves when the demo must stop (default: SIGINT or SIGTERM). */
  readonly stopSignal?: Promise<void>;
  readonly stdout?: (s: string) => void;
  readonly stderr?: (s: string) => void;
}

export async function runStartCommand(argv: string[], io: StartCommandIo): Promise<number> {
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        households: { type: 'string' },
        speed: { type: 'string' },
        'no-xmpp': { type: 'boolean' },
      },
    }));
  } catch (e) {
    err(`oadr-ledger start: ${(e as Error).message}\n\n${START_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    out(START_USAGE);
    return 0;
  }
  const number = (flag: string, s: string | undefined, ok: (n: number) => boolean, what: string): number | undefined => {
    if (s === undefined) return undefined;
    const n = s === 'Infinity' ? Number.POSITIVE_INFINITY : Number(s);
    if (!ok(n)) throw new Error(`--${flag} must be ${what}, got '${s}'`);
    return n;
  };
  let port: number | undefined;
  let households: number | undefined;
  let speed: number | undefined;
  try {
    port = number('port', values.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'a port number');
    households = number('households', values.households, (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0');
    speed = number('speed', values.speed, (n) => n > 0, 'a number > 0 (or Infinity)');
  } catch (e) {
    err(`oadr-ledger start: ${(e as Error).message}\n`);
    return 2;
  }
  const dataDir = values['data-dir'] ?? join('data', 'demo');
  const result = await runDemo({
    dataDir,
    ...(port === undefined ? {} : { port }),
    ...(households === undefined ? {} : { households }),
    ...(speed === undefined ? {} : { speed }),
    keepRunning: true,
    xmpp: values['no-xmpp'] === true ? 'off' : 'auto',
    stop: io.stopSignal ?? onStopSignal(),
    out,
    err,
    logger: io.logger(join(dataDir, DEMO_LOG_FILE)),
    ...(io.adminToken === undefined ? {} : { adminToken: io.adminToken }),
  });
  return result.exitCode;
}
