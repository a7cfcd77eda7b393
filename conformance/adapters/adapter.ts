/**
 * Adapters make the peer under test do what a case needs from its operator. For a VTN: issue,
 * modify or cancel an event, request a report, cancel a registration or ask for a re-registration.
 * For a VEN: send an availability schedule or an event opt (oadrCreateOpt), cancel an opt
 * (oadrCancelOpt). Three exist: our admin REST API for our VTN (`admin.ts`), a hook command
 * (`hook.ts`) and an operator at the terminal (`interactive.ts`), the last two for either side.
 * Without one, the cases that need it are skipped with the reason.
 */

/** The VTN's actions, as the hook command receives them in `{action}`. */
export const ADAPTER_ACTIONS = ['issue-event', 'modify-event', 'cancel-event', 'request-report', 'cancel-registration', 'request-reregistration'] as const;
export type AdapterAction = (typeof ADAPTER_ACTIONS)[number];

/** The VEN's actions (EiOpt, R200–R211), as the hook command receives them in `{action}`. */
export const VEN_ADAPTER_ACTIONS = ['opt-schedule', 'opt-event', 'cancel-opt'] as const;
export type VenAdapterAction = (typeof VEN_ADAPTER_ACTIONS)[number];

/** What a case asks the peer to do; `venId` always, the event fields for the event actions, the opt fields for the VEN's. */
export interface AdapterOrder {
  readonly venId: string;
  /** modify-event, cancel-event, opt-event: the eventID the VEN received. issue-event: the id the suite would like (a VTN may choose its own). */
  readonly eventId?: string;
  /** issue-event, opt-schedule: start, ms since the epoch (UTC). */
  readonly startMs?: number;
  /** issue-event, opt-schedule: whole minutes (opt-schedule: 0 = open-ended, R210). */
  readonly durationMinutes?: number;
  /** issue-event, modify-event: one value per interval (our VTN: W of reduction; any positive number will do elsewhere). */
  readonly values?: readonly number[];
  readonly priority?: number;
  readonly responseRequired?: 'always' | 'never';
  /** issue-event: the randomisation window (startafter), ms. */
  readonly startAfterMs?: number;
  /** opt-schedule, opt-event: optIn or optOut. */
  readonly optType?: 'optIn' | 'optOut';
  /** opt-schedule: the optID the suite would like (a VEN may choose its own); cancel-opt: the optID to cancel. */
  readonly optId?: string;
  /** opt-schedule: for this resource of the VEN only (R202), not the whole VEN. */
  readonly resourceId?: string;
}

/** Makes the peer do what a case needs; `A` is the set of actions of its side. */
export interface Adapter<A extends string> {
  /** `admin`, `hook`, `interactive` or `ours`: shown in skip reasons and the report. */
  readonly name: string;
  /** Resolves once the peer has taken the order (it may deliver later); rejects with what went wrong. */
  perform(action: A, order: AdapterOrder): Promise<void>;
}

export type VtnAdapter = Adapter<AdapterAction>;
export type VenAdapter = Adapter<VenAdapterAction>;
