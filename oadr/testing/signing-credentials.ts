/**
 * Certificates for the XML-signature tests: a root CA and VEN client certificates in both OpenADR
 * profiles (RSA 2048 and ECDSA P-256), plus one the TLS peer does not hold. Issued once per test
 * process by certs/ (tests only: oadr/ itself depends on no other part).
 */
import { createRootCa, issueClientCertificate, type Credential } from '../../certs/index.ts';

export interface SigningCredentials {
  readonly ca: Credential;
  readonly rsa: Credential;
  readonly ecc: Credential;
  /** Another ECC VEN certificate from the same CA. */
  readonly other: Credential;
}

let pending: Promise<SigningCredentials> | undefined;

/** The credentials, created on the first call (valid from 5 minutes before it, for two years). */
export function signingCredentials(): Promise<SigningCredentials> {
  pending ??= (async () => {
    const ca = await createRootCa({ commonName: 'oadr-ledger signature test CA', profile: 'ecc' });
    const [rsa, ecc, other] = await Promise.all([
      issueClientCertificate({ commonName: 'ven-rsa', issuer: ca, profile: 'rsa' }),
      issueClientCertificate({ commonName: 'ven-ecc', issuer: ca, profile: 'ecc' }),
      issueClientCertificate({ commonName: 'ven-other', issuer: ca, profile: 'ecc' }),
    ]);
    return { ca, rsa, ecc, other };
  })();
  return pending;
}
