/** The thesis's case study for tests and the bench (it lives beside the EMS: the demo runs it too). */
export { THESIS_FIXED_LOAD_BY_HOUR_W, THESIS_PRICES_C_EUR_PER_KWH, thesisCase } from '../thesis-case.ts';
