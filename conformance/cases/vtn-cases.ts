/** Every VTN-side case, in the order a certification run takes them. */
import type { AsVen } from '../as-ven.ts';
import type { CaseSpec } from '../runner.ts';
import { vtnEventCases } from './vtn-event.ts';
import { vtnRegistrationCases } from './vtn-registration.ts';

export const vtnCases: readonly CaseSpec<AsVen>[] = [...vtnRegistrationCases, ...vtnEventCases];
