/**
 * Adapters make the VTN under test do what a case needs from its operator: issue, modify or cancel
 * an event, request a report, cancel a registration or ask for a re-registration. Three exist: our
 * admin REST API (`admin.ts`), a hook command (`hook.ts`) and an operator at the terminal
 * (`interactive.ts`). Without one, the cases that need it are skipped with the reason.
 */

/** The actions, as the hook command receives them in `{action}`. */
export const ADAPTER_ACTIONS = ['issue-event', 'modify-event', 'cancel-event', 'request-report', 'cancel-registration', 'request-reregistration'] as const;
export type AdapterAction = (typeof ADAPTER_ACTIONS)[number];

/** What a case asks the VTN to do; `venId` always, the event fields for the event actions. */
export interface AdapterOrder {
  readonly venId: string;
  /** modify-event, cancel-event: the eventID the VEN received. issue-event: the id the suite would like (a VTN may choose its own). */
  readonly eventId?: string;
  /** issue-event: start, ms since the epoch (UTC). */
  readonly startMs?: number;
  /** issue-event: whole minutes. */
  readonly durationMinutes?: number;
  /** issue-event, modify-event: one value per interval (our VTN: W of reduction; any positive number will do elsewhere). */
  readonly values?: readonly number[];
  readonly priority?: number;
  readonly responseRequired?: 'always' | 'never';
  /** issue-event: the randomisation window (startafter), ms. */
  readonly startAfterMs?: number;
}

export interface VtnAdapter {
  /** `admin`, `hook` or `interactive`: shown in skip reasons and the report. */
  readonly name: string;
  /** Resolves once the VTN has taken the order (it may deliver later); rejects with what went wrong. */
  perform(action: AdapterAction, order: AdapterOrder): Promise<void>;
}
