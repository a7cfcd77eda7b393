/**
 * Byte sequences of IEC 60870-5-104 frames from implementations that are not ours: the issue's
 * captures of an independent controlling station (common address 1, three-octet IOA) and public
 * captures of field traffic (tritaer/IEC104's test telegrams). Each is one whole APDU in hex.
 */
export const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((x) => Number.parseInt(x, 16)));
export const toHex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

export const VECTORS = {
  startdtAct: '68 04 07 00 00 00',
  startdtCon: '68 04 0b 00 00 00',
  testfrAct: '68 04 43 00 00 00',
  testfrCon: '68 04 83 00 00 00',
  /** S-frame acknowledging N(R) = 10. */
  sFrame10: '68 04 01 00 14 00',
  /** C_IC_NA_1 act, N(S) = 0, N(R) = 0, QOI 20. */
  interrogation: '68 0e 00 00 00 00 64 01 06 00 01 00 00 00 00 14',
  /** C_SE_NC_1 select, IOA 5000, 42.5, N(S) = 1, N(R) = 6. */
  setpointSelect: '68 12 02 00 0c 00 32 01 06 00 01 00 88 13 00 00 00 2a 42 80',
  /** C_SE_NC_1 execute, N(S) = 2, N(R) = 7. */
  setpointExecute: '68 12 04 00 0e 00 32 01 06 00 01 00 88 13 00 00 00 2a 42 00',
  /** M_ME_NC_1 periodic, IOA 1001, 230.0, N(S) = 4, N(R) = 1. */
  periodic: '68 12 08 00 02 00 0d 01 01 00 01 00 e9 03 00 00 00 66 43 00',
  /** M_ME_TF_1 spontaneous, IOA 1001, 42.5, 2026-12-07 02:23:55.748 UTC. */
  measurementWithTime: '68 19 12 00 06 00 24 01 03 00 01 00 e9 03 00 00 00 2a 42 00 c4 d9 17 02 07 0c 1a',
  /** C_SE_TC_1 execute, IOA 5000, 42.5, 2026-12-07 02:24:31.847 UTC. */
  setpointWithTime: '68 19 04 00 14 00 3f 01 06 00 01 00 88 13 00 00 00 2a 42 00 67 7c 18 02 07 0c 1a',
  // Public field captures (tritaer/IEC104 test.py).
  /** C_IC_NA_1 act, common address 113. */
  fieldInterrogation: '68 0e 00 00 04 00 64 01 06 00 71 00 00 00 00 14',
  /** Its act-con, originator 113. */
  fieldInterrogationCon: '68 0e 04 00 02 00 64 01 07 71 71 00 00 00 00 14',
  /** M_ME_NC_1, SQ = 1, two objects from IOA 3047, COT 1. */
  fieldFloatSequence: '68 17 a8 00 04 00 0d 82 01 57 57 00 e7 0b 00 0a d7 a3 bb 00 7f 6a bc 3c 00',
  /** M_ME_TF_1, COT 3, IOA 1006, 2021-06-09 (a Wednesday) 10:50:01.425. */
  fieldFloatWithTime: '68 19 fe 08 30 01 24 01 03 51 51 00 ee 03 00 4b e7 47 42 00 91 05 32 0a 69 06 15',
  /** M_ME_NA_1, SQ = 1, two objects from IOA 649, COT 20. */
  fieldNormalized: '68 13 14 44 00 02 09 82 14 00 73 00 89 02 00 00 00 00 ef 01 00',
  /** M_SP_NA_1, SQ = 0, two objects, COT 20. */
  fieldSinglePoints: '68 12 a8 44 04 02 01 02 14 00 73 00 cc 14 00 01 e4 14 00 00',
  /** M_SP_NA_1, SQ = 1, two objects from IOA 507. */
  fieldSinglePointSequence: '68 0f a6 44 04 02 01 82 14 00 73 00 fb 01 00 00 01',
} as const;
