/**
 * The retailers' ledger identities, one folder per retailer under one directory:
 *
 *     <dir>/<retailerId>/cert.pem + key.pem        (PEM certificate, PKCS#8 PEM private key), or
 *     <dir>/<retailerId>/signcerts/*.pem + keystore/*   (the MSP folder `fabric-ca-client enroll -M` writes)
 *
 * `retailerId` is the retailer's id in the VTN (a customer's `retailer`, a retailer token's
 * `retailerId`); its certificate's `ID` attribute is `retailer:<retailerId>`, the contract's id of
 * the retailer. A retailer without a folder, or whose certificate carries another `ID`, is refused
 * with `NO_IDENTITY` and what to do; it is never served by another retailer's identity. With `issue`
 * (the embedded ledger's development CA) a missing identity is issued into its folder, and reused
 * after a restart.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTR_ID, decodeFabricAttributes, FABRIC_ATTRS_OID, parseCertificate } from '../../certs/index.ts';
import { mspFiles } from '../fabric/msp-folder.ts';
import type { RetailerIdentity } from '../ledger.ts';
import { MappingError } from './errors.ts';

/** The contract's id of a VTN retailer: the `ID` attribute of its certificate. */
export const RETAILER_ID_PREFIX = 'retailer:';

/** A contract id (chaincode `parseId`): 1–128 of letters, digits and `. _ : @ -`, starting with a letter or digit. */
const LEDGER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export const CERT_FILE = 'cert.pem';
export const KEY_FILE = 'key.pem';

export interface IssuedIdentity {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export interface RetailerIdentitiesOptions {
  /** The directory holding one folder per retailer id. */
  readonly dir: string;
  /** The MSP the retailers' certificates belong to. */
  readonly mspId: string;
  /** Issues a missing identity (`ID` attribute given); absent, a missing identity is an error. */
  readonly issue?: (attrs: Readonly<Record<string, string>>, retailerId: string) => Promise<IssuedIdentity>;
}

export interface RetailerIdentities {
  /** The identity of a retailer (loaded or issued once, then kept); rejects with `NO_IDENTITY`. */
  get(retailerId: string): Promise<RetailerIdentity>;
  /** Resolves when every retailer given has an identity (a start-up check); rejects naming those that have none. */
  check(retailerIds: Iterable<string>): Promise<void>;
  /**
   * The mapping's `retailerOf` (`MappingIdentities`) from the retailer of a meter's customer
   * (undefined: the default retailer).
   */
  forMeters(retailerOfMeter: (meterId: string) => string | undefined): (meterId: string) => Promise<RetailerIdentity> | undefined;
}

/** The contract's id of a VTN retailer (`retailer:<retailerId>`), or `NO_IDENTITY` if the id cannot be one. */
export function retailerLedgerId(retailerId: string): string {
  const id = `${RETAILER_ID_PREFIX}${retailerId}`;
  if (!LEDGER_ID_RE.test(id) || !/^[A-Za-z0-9]/.test(retailerId)) {
    throw new MappingError('NO_IDENTITY', `retailer ${JSON.stringify(retailerId)} cannot have a ledger identity: a retailer id is 1–${128 - RETAILER_ID_PREFIX.length} letters, digits and . _ : @ -, starting with a letter or digit; rename the retailer`);
  }
  return id;
}

function attributeId(certificatePem: string): string | undefined {
  const extension = parseCertificate(certificatePem).getExtension(FABRIC_ATTRS_OID);
  return extension === null ? undefined : decodeFabricAttributes(new Uint8Array(extension.value))?.[ATTR_ID];
}

function filesOf(folder: string): { cert: string; key: string } | undefined {
  const cert = join(folder, CERT_FILE);
  const key = join(folder, KEY_FILE);
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  let msp;
  try {
    msp = mspFiles(folder);
  } catch (err) {
    throw new MappingError('NO_IDENTITY', (err as Error).message, { cause: err });
  }
  return msp === undefined ? undefined : { cert: msp.certificate, key: msp.privateKey };
}

export function createRetailerIdentities(options: Readonly<RetailerIdentitiesOptions>): RetailerIdentities {
  const { dir, mspId, issue } = options;
  const loaded = new Map<string, Promise<RetailerIdentity>>();

  const load = async (retailerId: string): Promise<RetailerIdentity> => {
    const ledgerId = retailerLedgerId(retailerId);
    const folder = join(dir, retailerId);
    let files = filesOf(folder);
    if (files === undefined && issue !== undefined) {
      const issued = await issue({ [ATTR_ID]: ledgerId }, retailerId);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, KEY_FILE), issued.privateKeyPem, { mode: 0o600 });
      writeFileSync(join(folder, CERT_FILE), issued.certificatePem);
      files = filesOf(folder);
    }
    if (files === undefined) {
      throw new MappingError('NO_IDENTITY', `retailer ${retailerId} has no ledger identity: put its certificate (attribute ID=${ledgerId}) and private key in ${join(folder, CERT_FILE)} and ${KEY_FILE}, or its MSP folder there (signcerts/, keystore/)`);
    }
    let certificatePem: string;
    let privateKey: string;
    let id: string | undefined;
    try {
      certificatePem = readFileSync(files.cert, 'utf8');
      privateKey = readFileSync(files.key, 'utf8');
      id = attributeId(certificatePem);
    } catch (err) {
      throw new MappingError('NO_IDENTITY', `retailer ${retailerId}: cannot read its identity in ${folder}: ${(err as Error).message}`, { cause: err });
    }
    if (id !== ledgerId) {
      throw new MappingError('NO_IDENTITY', `retailer ${retailerId}: the certificate ${files.cert} carries ID=${id ?? '(none)'}, not ${ledgerId}; issue it with the attribute ID=${ledgerId}`);
    }
    return { retailerId: ledgerId, identity: { mspId, certificatePem, privateKey } };
  };

  const get = (retailerId: string): Promise<RetailerIdentity> => {
    let p = loaded.get(retailerId);
    if (p === undefined) {
      p = load(retailerId);
      loaded.set(retailerId, p);
      p.catch(() => loaded.delete(retailerId)); // the files may be put in place later
    }
    return p;
  };

  return {
    get,
    forMeters: (retailerOfMeter) => (meterId) => {
      const r = retailerOfMeter(meterId);
      return r === undefined ? undefined : get(r);
    },
    async check(retailerIds) {
      const problems: string[] = [];
      for (const id of new Set(retailerIds)) {
        try {
          await get(id);
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      if (problems.length > 0) throw new MappingError('NO_IDENTITY', `${problems.length} retailer(s) without a usable ledger identity: ${problems.join('; ')}`);
    },
  };
}
