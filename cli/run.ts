/** Process entry of the `oadr-ledger` command: runs `main` and sets the exit code. */
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
