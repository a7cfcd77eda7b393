/**
 * The folder services/ holds the OpenADR services (registration, events, reports, opt, poll), the
 * event model, the programs, the cancellation re-sends and the context they share. It may depend on
 * oadr/, store/, ledger/port.ts, transports/ven-queue.ts, the configuration types and the part's errors.
 *
 * Which VEN→VTN payload each service accepts (rules §2.1), the handler for each, and the
 * "appropriate payload" an application error comes back in (R517, rules §2.8). Transport-free:
 * the HTTP layer (and later XMPP) call `dispatch` with a decoded payload.
 */
import { OadrProtocolError, type Payload, type PayloadType, type ResponseCodeValue } from '../../oadr/index.ts';
import { SCHEMA_VERSION, eiResponse, oadrResponse, requireVen, type VtnContext } from './context.ts';
import { distributeEventError, handleCreatedEvent, handleRequestEvent } from './event-service.ts';
import { handleCancelOpt, handleCreateOpt, keepOptStates } from './opt-service.ts';
import { handlePoll } from './poll.ts';
import {
  canceledPartyRegistration,
  createdPartyRegistration,
  handleCancelPartyRegistration,
  handleCanceledPartyRegistration,
  handleCreatePartyRegistration,
  handleQueryRegistration,
} from './registration.ts';
import { handleCanceledReport, handleCancelReport, handleCreateReport, handleRegisterReport, handleReportAck, handleUpdateReport } from './report-service.ts';

export const SERVICES = ['EiRegisterParty', 'EiEvent', 'EiReport', 'EiOpt', 'OadrPoll'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Payloads a VEN may POST to each service of the VTN. */
export const ACCEPTED: Readonly<Record<ServiceName, readonly PayloadType[]>> = {
  EiRegisterParty: ['QueryRegistration', 'CreatePartyRegistration', 'CancelPartyRegistration', 'CanceledPartyRegistration', 'Response'],
  EiEvent: ['RequestEvent', 'CreatedEvent', 'Response'],
  EiReport: ['RegisterReport', 'RegisteredReport', 'CreateReport', 'CreatedReport', 'UpdateReport', 'CancelReport', 'CanceledReport', 'Response'],
  EiOpt: ['CreateOpt', 'CancelOpt'],
  OadrPoll: ['Poll'],
};

/** The VEN service a VTN→VEN payload is pushed to (§9.1.2). */
export function pushServiceOf(type: PayloadType): ServiceName {
  switch (type) {
    case 'DistributeEvent':
      return 'EiEvent';
    case 'CancelPartyRegistration':
    case 'RequestReregistration':
      return 'EiRegisterParty';
    default:
      return 'EiReport';
  }
}

export const isService = (s: string): s is ServiceName => (SERVICES as readonly string[]).includes(s);

/** The venID a payload speaks for, if it has one (for logs). */
export function payloadVenId(p: Payload): string | undefined {
  return 'venId' in p && typeof p.venId === 'string' ? p.venId : undefined;
}

function requestIdOf(p: Payload): string {
  if ('requestId' in p && typeof p.requestId === 'string') return p.requestId;
  if (p.type === 'RequestEvent') return p.requestId;
  return '';
}

/** The answer carrying an application error, per request type (R517). */
export function errorAnswer(ctx: VtnContext, p: Payload, code: ResponseCodeValue, description: string): Payload {
  const venId = payloadVenId(p);
  const requestId = requestIdOf(p);
  switch (p.type) {
    case 'RequestEvent':
      return distributeEventError(ctx, code, requestId, description);
    case 'QueryRegistration':
    case 'CreatePartyRegistration':
      return createdPartyRegistration(ctx, code, requestId, undefined, description);
    case 'CancelPartyRegistration':
      return canceledPartyRegistration(code, requestId, p.registrationId, venId, description);
    case 'RegisterReport':
      return { type: 'RegisteredReport', schemaVersion: SCHEMA_VERSION, response: eiResponse(code, requestId, description), ...(venId === undefined ? {} : { venId }) };
    case 'CreateReport':
      return { type: 'CreatedReport', schemaVersion: SCHEMA_VERSION, response: eiResponse(code, requestId, description), pendingReports: [], ...(venId === undefined ? {} : { venId }) };
    case 'UpdateReport':
      return { type: 'UpdatedReport', schemaVersion: SCHEMA_VERSION, response: eiResponse(code, requestId, description), ...(venId === undefined ? {} : { venId }) };
    case 'CancelReport':
      return { type: 'CanceledReport', schemaVersion: SCHEMA_VERSION, response: eiResponse(code, requestId, description), pendingReports: [], ...(venId === undefined ? {} : { venId }) };
    case 'CreateOpt':
      return { type: 'CreatedOpt', schemaVersion: SCHEMA_VERSION, response: eiResponse(code, requestId, description), optId: p.optId };
    case 'CancelOpt':
      return { type: 'CanceledOpt', schemaVersion: SCHEMA_VERSION, response: eiResponse(code, requestId, description), optId: p.optId };
    default:
      return oadrResponse(venId, code, requestId, description);
  }
}

function handle(ctx: VtnContext, p: Payload): Payload {
  switch (p.type) {
    case 'QueryRegistration':
      return handleQueryRegistration(ctx, p);
    case 'CreatePartyRegistration':
      return handleCreatePartyRegistration(ctx, p);
    case 'CancelPartyRegistration':
      return handleCancelPartyRegistration(ctx, p);
    case 'CanceledPartyRegistration':
      return handleCanceledPartyRegistration(ctx, p);
    case 'RequestEvent':
      return handleRequestEvent(ctx, p);
    case 'CreatedEvent':
      // R206: opt states set by oadrCreateOpt are changed only by another oadrCreateOpt.
      return handleCreatedEvent(ctx, keepOptStates(ctx, p));
    case 'Poll':
      return handlePoll(ctx, p);
    case 'RegisterReport':
      return handleRegisterReport(ctx, p);
    case 'UpdateReport':
      return handleUpdateReport(ctx, p);
    case 'CreateReport':
      return handleCreateReport(ctx, p);
    case 'CancelReport':
      return handleCancelReport(ctx, p);
    case 'RegisteredReport':
    case 'CreatedReport':
      return handleReportAck(ctx, p);
    case 'CanceledReport':
      return handleCanceledReport(ctx, p);
    case 'CreateOpt':
      return handleCreateOpt(ctx, p);
    case 'CancelOpt':
      return handleCancelOpt(ctx, p);
    case 'Response': {
      // An acknowledgement (e.g. of oadrRequestReregistration in pull mode).
      const reg = requireVen(ctx, p.venId);
      return oadrResponse(reg.venId, 200, p.response.requestId);
    }
    default:
      // VTN→VEN payloads POSTed to the VTN (R401: oadrRequestReregistration…): the routing refuses them first.
      throw new OadrProtocolError(459, `${p.type} is sent by a VTN, not to it`);
  }
}

export interface DispatchResult {
  readonly answer: Payload;
  /** Set when the answer carries an application error. */
  readonly error: OadrProtocolError | undefined;
}

/** Handle one decoded VEN→VTN payload. Application errors become answers; other errors propagate (HTTP 500). */
export function dispatch(ctx: VtnContext, p: Payload): DispatchResult {
  try {
    return { answer: handle(ctx, p), error: undefined };
  } catch (err) {
    if (!(err instanceof OadrProtocolError)) throw err;
    return { answer: errorAnswer(ctx, p, err.responseCode, err.message), error: err };
  }
}
