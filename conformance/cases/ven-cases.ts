/** Every VEN-side case, in order: registration first, the VTN's cancellation of the VEN last. */
import type { AsVtn } from '../as-vtn.ts';
import type { CaseSpec } from '../runner.ts';
import { venEventCases } from './ven-event.ts';
import { venGeneralCases, venRegistrationCases } from './ven-general.ts';
import { venOptCases } from './ven-opt.ts';
import { venReportCases } from './ven-report.ts';
import { venXmppCases } from './ven-xmpp.ts';

const last = new Set(['R401-reregistration-requested', 'R407+R401-cancelled-by-vtn']);

export const venCases: readonly CaseSpec<AsVtn>[] = [
  ...venRegistrationCases.filter((c) => !last.has(c.id)),
  ...venReportCases,
  ...venEventCases,
  ...venOptCases,
  ...venGeneralCases,
  ...venXmppCases,
  ...venRegistrationCases.filter((c) => last.has(c.id)),
];
