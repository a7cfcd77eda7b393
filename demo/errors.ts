/** The demo's errors: stable codes, causes chained. */
export const DEMO_ERROR_CODES = ['ADMIN_API', 'NOT_READY', 'INVALID_OPTION', 'STATE_FILE'] as const;
export type DemoErrorCode = (typeof DEMO_ERROR_CODES)[number];

export class DemoError extends Error {
  override readonly name = 'DemoError';
  readonly code: DemoErrorCode;
  constructor(code: DemoErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
