/**
 * Test conveniences over certs' Fabric org identities: one CA per name for the life of the process (so
 * a test run creates each CA key once), and identities enrolled with an MSP's default test CA.
 */
import { createFabricOrgCa, enrollFabricOrgIdentity, type FabricOrgIdentity, type FabricOrgIdentityOptions } from '../../certs/index.ts';

export type TestCa = Awaited<ReturnType<typeof createFabricOrgCa>>;
export type TestIdentity = FabricOrgIdentity;

export interface TestIdentityOptions extends Omit<FabricOrgIdentityOptions, 'ca'> {
  /** Default: `createTestCa('ca.' + mspId)`. */
  readonly ca?: TestCa;
}

const caCache = new Map<string, Promise<TestCa>>();

/** A self-signed org CA, created once per name per process. */
export function createTestCa(name: string): Promise<TestCa> {
  let ca = caCache.get(name);
  if (!ca) {
    ca = createFabricOrgCa(name);
    caCache.set(name, ca);
  }
  return ca;
}

export async function createTestIdentity(options: Readonly<TestIdentityOptions>): Promise<TestIdentity> {
  const ca = options.ca ?? (await createTestCa(`ca.${options.mspId.toLowerCase()}`));
  return enrollFabricOrgIdentity({ ...options, ca });
}
