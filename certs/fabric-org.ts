/**
 * A Fabric organisation's certificate authority and the identities it enrols: the one way this project
 * makes an org identity, for the embedded ledger's channel (each org's CA and peer), for clients the
 * channel trusts and for the tests' identities. Certificates come from pki.ts (ECDSA P-256, NodeOUs,
 * Fabric CA's attribute extension), so fabric-shim's `ClientIdentity` reads them as it would on a peer.
 */
import { decodeFabricAttributes, FABRIC_ATTRS_OID } from './fabric-attributes.ts';
import type { CryptoKey } from './keys.ts';
import { createRootCa, issueFabricIdentity, type Credential, type FabricNodeOu } from './pki.ts';

/** An identity of one MSP, with what a Fabric client or peer signs with. */
export interface FabricOrgIdentity {
  readonly mspId: string;
  readonly commonName: string;
  readonly certificatePem: string;
  /** Extractable ECDSA P-256 key (WebCrypto). */
  readonly privateKey: CryptoKey;
  /** The same key as PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** The attributes written in the certificate, Fabric CA's defaults included. */
  readonly attrs: Readonly<Record<string, string>>;
  readonly caCertificatePem: string;
}

export interface FabricOrgIdentityOptions {
  readonly mspId: string;
  readonly commonName: string;
  /** The org's CA (`createFabricOrgCa`, or one loaded with `loadCredential`). */
  readonly ca: Credential;
  readonly attrs?: Readonly<Record<string, string>>;
  /** Node OU, default 'client'. */
  readonly ou?: FabricNodeOu;
  /** Add Fabric CA's default attributes (hf.EnrollmentID, hf.Type, hf.Affiliation). Default true. */
  readonly defaultAttrs?: boolean;
}

/** An org's self-signed root CA (ECDSA P-256), `name` as its organisation and common name. */
export function createFabricOrgCa(name: string): Promise<Credential> {
  return createRootCa({ commonName: name, organization: name, profile: 'ecc', days: 15 * 365 });
}

/** An identity enrolled with the org's CA, as Fabric CA issues it. */
export async function enrollFabricOrgIdentity(options: Readonly<FabricOrgIdentityOptions>): Promise<FabricOrgIdentity> {
  const credential = await issueFabricIdentity({
    issuer: options.ca,
    commonName: options.commonName,
    nodeOu: options.ou ?? 'client',
    attrs: options.attrs ?? {},
    defaultAttrs: options.defaultAttrs ?? true,
  });
  const extension = credential.certificate.getExtension(FABRIC_ATTRS_OID);
  return {
    mspId: options.mspId,
    commonName: options.commonName,
    certificatePem: credential.certificatePem,
    privateKey: credential.privateKey,
    privateKeyPem: credential.privateKeyPem,
    attrs: (extension ? decodeFabricAttributes(new Uint8Array(extension.value)) : undefined) ?? {},
    caCertificatePem: options.ca.certificatePem,
  };
}
