/**
 * The one pino logger of a process, created here and passed down (STYLE: nothing outside cli/
 * creates loggers). Keys and authorization headers are redacted; logs go to standard error so
 * that commands can print results on standard output.
 */
import pino, { type Logger } from 'pino';

/** Logs to standard error, or appended to `file` (the demo keeps its terminal for progress lines). */
export function createLogger(env: NodeJS.ProcessEnv = process.env, file?: string): Logger {
  return pino(
    {
      name: 'oadr-ledger',
      level: env.OADR_LOG_LEVEL ?? 'info',
      redact: ['req.headers.authorization', '*.privateKey', '*.privateKeyPem', '*.token'],
    },
    pino.destination(file === undefined ? 2 : { dest: file, mkdir: true }),
  );
}
