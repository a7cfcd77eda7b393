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
  xmpp: 'vtn.xmpp',
  reports: 'vtn.reports',
  opt: 'vtn.opt',
  tls: 'vtn.tls',
  admin: 'vtn.admin',
} as const;

/**
 * A logger for one component whose every line carries exactly one `component` key: a `child` that
 * names another component is made from `root` (with the other bindings kept), not stacked on this
 * one, because pino writes each child's bindings again and a line would carry `component` two or
 * three times.
 */
export function componentLogger(root: Logger, component: string, bindings: Readonly<Record<string, unknown>> = {}): Logger {
  return wrap(root, bindings, root.child({ ...bindings, component }));
}

function wrap(root: Logger, bindings: Readonly<Record<string, unknown>>, self: Logger): Logger {
  return {
    debug: (obj, msg) => self.debug(obj, msg),
    info: (obj, msg) => self.info(obj, msg),
    warn: (obj, msg) => self.warn(obj, msg),
    error: (obj, msg) => self.error(obj, msg),
    child(b) {
      if (typeof b.component !== 'string') return wrap(root, { ...bindings, ...b }, self.child(b));
      const { component, ...rest } = b;
      return componentLogger(root, component, { ...bindings, ...rest });
    },
  };
}
