/**
 * The VEN's TLS profile (R67, §9.2, rules digest 9.2): TLS 1.2 only, the two default suites
 * (a VEN client offers at least one; we offer both, the server picks), the VTN's certificate
 * always checked against the OpenADR roots. Used by the HTTPS client and by the push server,
 * which also requires the VTN's client certificate (§9.2.1.1).
 */
import type { SecureVersion } from 'node:tls';

export const VEN_TLS_CIPHERS = 'ECDHE-ECDSA-AES128-SHA256:AES128-SHA256';
export const VEN_TLS_VERSION: SecureVersion = 'TLSv1.2';

export const VEN_TLS_PROFILE = Object.freeze({ minVersion: VEN_TLS_VERSION, maxVersion: VEN_TLS_VERSION, ciphers: VEN_TLS_CIPHERS });

/** An explicit deployment change of the defaults (§10.4); absent: exactly the R67 profile. */
export interface VenTlsOverride {
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  readonly ciphers?: string;
}

export function venTlsProfile(override: Readonly<VenTlsOverride> = {}): { minVersion: SecureVersion; maxVersion: SecureVersion; ciphers: string } {
  return {
    minVersion: override.minVersion ?? VEN_TLS_PROFILE.minVersion,
    maxVersion: override.maxVersion ?? VEN_TLS_PROFILE.maxVersion,
    ciphers: override.ciphers ?? VEN_TLS_PROFILE.ciphers,
  };
}
