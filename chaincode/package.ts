/**
 * Writes the chaincode-as-a-service package for a real Fabric network:
 *
 *   node chaincode/package.ts --out DIR --address host:port --label NAME [--tls-root-cert ca.pem] [--dial-timeout 10s]
 *
 * then `peer lifecycle chaincode install DIR/NAME.tar.gz`, and start `chaincode/server.ts` with
 * CHAINCODE_SERVER_ADDRESS and CORE_CHAINCODE_ID_NAME (the package id the install printed).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCcaasPackage } from './ccaas-package.ts';

export function main(argv: string[]): string {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      address: { type: 'string' },
      label: { type: 'string' },
      'dial-timeout': { type: 'string' },
      'tls-root-cert': { type: 'string' },
      'client-auth': { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.out || !values.address || !values.label) {
    throw new Error('usage: node chaincode/package.ts --out DIR --address host:port --label NAME [--tls-root-cert ca.pem] [--client-auth] [--dial-timeout 10s]');
  }
  const rootCertPem = values['tls-root-cert'] ? readFileSync(values['tls-root-cert'], 'utf8') : undefined;
  const pkg = createCcaasPackage({
    address: values.address,
    label: values.label,
    ...(values['dial-timeout'] ? { dialTimeout: values['dial-timeout'] } : {}),
    ...(rootCertPem ? { tlsRequired: true, rootCertPem, clientAuthRequired: values['client-auth'] ?? false } : {}),
  });
  mkdirSync(values.out, { recursive: true });
  const file = join(values.out, pkg.fileName);
  writeFileSync(file, pkg.bytes);
  return file;
}

if (import.meta.main) {
  try {
    process.stdout.write(main(process.argv.slice(2)) + '\n');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
