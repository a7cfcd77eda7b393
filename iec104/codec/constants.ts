/**
 * Names of IEC 60870-5-101/104 numbers: the type identifications this codec knows (IEC 60870-5-101
 * §7.2.1, companion standard 104 §9), the causes of transmission (§7.2.3) and the flag bits of the
 * quality descriptors and command qualifiers (§7.2.6).
 */

/** Type identifications (§7.2.1.1). */
export const TYPE = {
  /** Single-point information (SIQ). */
  M_SP_NA_1: 1,
  /** Measured value, normalized (NVA + QDS). */
  M_ME_NA_1: 9,
  /** Measured value, scaled (SVA + QDS). */
  M_ME_NB_1: 11,
  /** Measured value, short floating point (IEEE 754 + QDS). */
  M_ME_NC_1: 13,
  /** Measured value, short floating point with time tag CP56Time2a. */
  M_ME_TF_1: 36,
  /** Single command (SCO). */
  C_SC_NA_1: 45,
  /** Set-point command, short floating point (IEEE 754 + QOS). */
  C_SE_NC_1: 50,
  /** Set-point command, short floating point with time tag CP56Time2a. */
  C_SE_TC_1: 63,
  /** Interrogation command (QOI). */
  C_IC_NA_1: 100,
  /** Clock synchronization command (CP56Time2a). */
  C_CS_NA_1: 103,
  /** Test command with time tag (TSC + CP56Time2a). */
  C_TS_TA_1: 107,
} as const;

export type TypeName = keyof typeof TYPE;
export type TypeId = (typeof TYPE)[TypeName];

/** Causes of transmission (§7.2.3); six bits. */
export const COT = {
  PERIODIC: 1,
  BACKGROUND: 2,
  SPONTANEOUS: 3,
  INITIALIZED: 4,
  REQUEST: 5,
  ACTIVATION: 6,
  ACTIVATION_CON: 7,
  DEACTIVATION: 8,
  DEACTIVATION_CON: 9,
  ACTIVATION_TERMINATION: 10,
  /** Interrogated by station interrogation. */
  INTERROGATED_BY_STATION: 20,
  UNKNOWN_TYPE: 44,
  UNKNOWN_CAUSE: 45,
  UNKNOWN_COMMON_ADDRESS: 46,
  UNKNOWN_IOA: 47,
} as const;

export type CauseName = keyof typeof COT;
export type Cause = (typeof COT)[CauseName];

/** Quality descriptor bits (QDS, §7.2.6.3; SIQ shares BL…IV, §7.2.6.1). */
export const QUALITY = {
  /** Overflow (QDS only). */
  OV: 0x01,
  /** Blocked. */
  BL: 0x10,
  /** Substituted. */
  SB: 0x20,
  /** Not topical: not updated within a specified time. */
  NT: 0x40,
  /** Invalid. */
  IV: 0x80,
} as const;

/** Qualifier of interrogation: station interrogation (global), §7.2.6.22. */
export const QOI_STATION = 20;

/** The broadcast common address (§7.2.4, two octets). */
export const BROADCAST_CA = 0xffff;

/** The largest APDU length octet: 253 (an APDU of 255 octets), §5.1 of 104. */
export const MAX_APDU_LENGTH = 253;
