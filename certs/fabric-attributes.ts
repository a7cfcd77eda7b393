/**
 * Attributes in a Fabric enrollment certificate, written as Fabric CA writes them: extension
 * `1.2.3.4.5.6.7.8.1`, non-critical, whose value (the OCTET STRING content) is the raw JSON
 * `{"attrs":{…}}` with keys in byte order (Go's json.Marshal of a map). fabric-shim's
 * `ClientIdentity.getAttributeValue` and Go's `cid.GetAttributeValue` read exactly this.
 *
 */

/** The OID under which Fabric CA stores attributes in an enrollment certificate. */
export const FABRIC_ATTRS_OID = '1.2.3.4.5.6.7.8.1';

/** Attributes Fabric CA adds to every enrollment certificate by default. */
export const FABRIC_DEFAULT_ATTRS = ['hf.Affiliation', 'hf.EnrollmentID', 'hf.Type'] as const;

/** The attribute names of the thesis (listing 5.1): the meter (or retailer) id and the retailer that enrolled it. */
export const ATTR_ID = 'ID';
export const ATTR_ID_PROVIDER = 'IDprovider';

/** `{"attrs":{…}}` as UTF-8 bytes, keys sorted by UTF-16 code unit (byte order for the ASCII names Fabric uses). */
export function encodeFabricAttributes(attrs: Readonly<Record<string, string>>): Uint8Array {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(attrs).sort()) sorted[key] = attrs[key] as string;
  return new TextEncoder().encode(JSON.stringify({ attrs: sorted }));
}

/** The attributes of an extension value written by `encodeFabricAttributes` (or Fabric CA); `undefined` if it is not that. */
export function decodeFabricAttributes(value: Uint8Array): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
  } catch {
    return undefined;
  }
  const attrs = (parsed as { attrs?: unknown } | null)?.attrs;
  if (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v !== 'string') return undefined;
    out[k] = v;
  }
  return out;
}
