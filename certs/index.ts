/**
 * The PKI of both worlds: OpenADR 2.0b TLS certificates (RSA 2048 and ECDSA P-256 profiles, §10.1)
 * and Hyperledger Fabric MSP identities with Fabric CA attributes; the development PKI of
 * `oadr-ledger certs init`. Fingerprints are the OpenADR ones from oadr/.
 */
export { CERTS_ERROR_CODES, CertsError, type CertsErrorCode } from './errors.ts';
export { KEY_PROFILES, exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, type KeyPair, type KeyProfile } from './keys.ts';
export { ATTR_ID, ATTR_ID_PROVIDER, FABRIC_ATTRS_OID, FABRIC_DEFAULT_ATTRS, decodeFabricAttributes, encodeFabricAttributes } from './fabric-attributes.ts';
export {
  DEFAULT_CA_DAYS,
  DEFAULT_LEAF_DAYS,
  FABRIC_NODE_OUS,
  chainPem,
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
  issueFabricIdentity,
  issueServerCertificate,
  loadCredential,
  parseCertificate,
  revoke,
  type Credential,
  type FabricIdentityOptions,
  type FabricNodeOu,
  type IntermediateCaOptions,
  type LeafOptions,
  type RevokeOptions,
  type RootCaOptions,
  type ServerCertificateOptions,
  type ValidityOptions,
} from './pki.ts';
export { createFabricOrgCa, enrollFabricOrgIdentity, type FabricOrgIdentity, type FabricOrgIdentityOptions } from './fabric-org.ts';
export { MSP_CONFIG_FILE, readMsp, renderMspConfig, writeMsp, type MspFolder, type MspMaterial } from './msp.ts';
export { FABRIC_ORG_NAMES, FABRIC_ORGS, PKI_TOP_LEVEL, pkiLayout, type FabricOrg, type FabricOrgName, type OpenadrRole } from './layout.ts';
export {
  DEV_CUSTOMERS,
  DEV_RETAILER_ID,
  IDENTITY_KINDS,
  describePki,
  formatPkiSummary,
  initPki,
  issueIdentity,
  type IdentityKind,
  type InitPkiOptions,
  type IssueIdentityOptions,
  type IssuedIdentity,
  type PkiSummary,
} from './dev-pki.ts';
export { CERTS_USAGE, runCertsCommand } from './cli.ts';
export { certificateFingerprint } from '../oadr/index.ts';
