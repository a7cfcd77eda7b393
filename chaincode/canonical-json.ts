/**
 * JSON with object keys sorted at every level (spec section 7): the bytes written to state and the
 * payloads of events are the same on every endorser whatever order the code built the object in.
 * Only plain data: undefined object members are dropped, non-finite numbers and BigInt refused.
 * Serialises directly (no sorted copy of the value): it runs once per key written.
 */
export function canonicalJson(value: unknown): string {
  return write(value);
}

function write(value: unknown): string {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'bigint':
      throw new TypeError('canonicalJson: BigInt must be converted first');
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += (i > 0 ? ',' : '') + (v === undefined ? 'null' : write(v));
        }
        return out + ']';
      }
      const o = value as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const key of Object.keys(o).sort()) {
        const v = o[key];
        if (v === undefined) continue;
        out += (first ? '' : ',') + JSON.stringify(key) + ':' + write(v);
        first = false;
      }
      return out + '}';
    }
    default:
      throw new TypeError(`canonicalJson: cannot serialise ${typeof value}`);
  }
}

export function canonicalBytes(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}
