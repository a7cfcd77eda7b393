/** Every VTN-side case, in the order a certification run takes them. */
import type { AsVen } from '../as-ven.ts';
import type { CaseSpec } from '../runner.ts';
import { vtnEventCases } from './vtn-event.ts';
import { vtn20aCases, vtnGeneralCases, vtnPollCases, vtnSecurityCases } from './vtn-general.ts';
import { vtnOptCases } from './vtn-opt.ts';
import { vtnRegistrationCases } from './vtn-registration.ts';
import { vtnReportCases } from './vtn-report.ts';
import { vtnXmppCases } from './vtn-xmpp.ts';

export const vtnCases: readonly CaseSpec<AsVen>[] = [
  ...vtnRegistrationCases,
  ...vtnEventCases,
  ...vtnOptCases,
  ...vtnReportCases,
  ...vtnPollCases,
  ...vtnGeneralCases,
  ...vtn20aCases,
  ...vtnSecurityCases,
  ...vtnXmppCases,
];
