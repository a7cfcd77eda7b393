/**
 * The chaincode-as-a-service package `peer lifecycle chaincode install` expects: an outer tar.gz with
 * `metadata.json` ({"type":"ccaas","label":…}) and `code.tar.gz`, which holds `connection.json`
 * (the address the peer dials, dial timeout, TLS settings). Pure: returns the bytes.
 */
import { canonicalJson } from './canonical-json.ts';
import { invalidArgument } from './errors.ts';
import { createTarGz } from './tar.ts';

export interface CcaasPackageOptions {
  /** host:port where the chaincode server listens, as the peer reaches it. */
  address: string;
  /** Package label, e.g. `oadr-dr_1.0`. */
  label: string;
  dialTimeout?: string;
  tlsRequired?: boolean;
  clientAuthRequired?: boolean;
  /** PEM of the CA that signed the chaincode server's TLS certificate (when tlsRequired). */
  rootCertPem?: string;
}

const LABEL_RE = /^[A-Za-z0-9_.+-]+$/; // Fabric's label rule
const ADDRESS_RE = /^[A-Za-z0-9.\-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

export function createCcaasPackage(options: Readonly<CcaasPackageOptions>): { fileName: string; bytes: Buffer; connection: object; metadata: object } {
  if (!LABEL_RE.test(options.label)) throw invalidArgument(`label ${options.label} may contain only letters, digits and _ . + -`);
  if (!ADDRESS_RE.test(options.address)) throw invalidArgument(`address ${options.address} must be host:port`);
  const port = Number(options.address.slice(options.address.lastIndexOf(':') + 1));
  if (port < 1 || port > 65535) throw invalidArgument(`address ${options.address}: port out of range`);
  if (options.tlsRequired && !options.rootCertPem) throw invalidArgument('tlsRequired needs rootCertPem (the CA of the chaincode server certificate)');
  const connection: Record<string, unknown> = {
    address: options.address,
    dial_timeout: options.dialTimeout ?? '10s',
    tls_required: options.tlsRequired ?? false,
  };
  if (options.tlsRequired) {
    connection['client_auth_required'] = options.clientAuthRequired ?? false;
    connection['root_cert'] = options.rootCertPem;
  }
  const metadata = { label: options.label, type: 'ccaas' };
  const code = createTarGz([{ name: 'connection.json', content: Buffer.from(canonicalJson(connection)) }]);
  const bytes = createTarGz([
    { name: 'metadata.json', content: Buffer.from(canonicalJson(metadata)) },
    { name: 'code.tar.gz', content: code },
  ]);
  return { fileName: `${options.label}.tar.gz`, bytes, connection, metadata };
}
