/**
 * The logger the VTN writes to: pino's shape, so the CLI passes its pino instance (or a child), and
 * tests pass `silentLogger` or a recorder.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

const noop = (): void => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger };

/** Log components, as `log.child({ component })`. */
export const LOG_COMPONENT = {
  http: 'vtn.http',
  registration: 'vtn.registration',
  poll: 'vtn.poll',
  events: 'vtn.events',
  push: 'vtn.push',
  reports: 'vtn.reports',
  opt: 'vtn.opt',
} as const;
