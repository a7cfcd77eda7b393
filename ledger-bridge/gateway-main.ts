/**
 * Process entry of `ledger serve` until the CLI dispatches to it:
 *
 *   node ledger-bridge/gateway-main.ts --data-dir DIR [--port N] [--tls-cert FILE --tls-key FILE] [--plaintext]
 */
import { runLedgerServe } from './gateway-command.ts';

process.exitCode = await runLedgerServe(process.argv.slice(2));
