/**
 * Endorsement policies: Fabric's signature-policy language (`AND('Org1MSP.peer','Org2MSP.peer')`,
 * `OR(…)`, `OutOf(n, …)` over `'MSP.role'` principals), its protobuf form
 * (`common.SignaturePolicyEnvelope`, what fabric-shim's `KeyEndorsementPolicy` writes as a key's
 * VALIDATION_PARAMETER) and its evaluation exactly as Fabric's cauthdsl evaluates it: each signer may
 * satisfy one principal only, `NOutOf` tries its rules in order and keeps the signers a satisfied rule
 * used.
 */
import { common, msp } from '@hyperledger/fabric-protos';

/** The key metadata entry that holds a key-level (state-based) endorsement policy. */
export const VALIDATION_PARAMETER = 'VALIDATION_PARAMETER';

export const ROLES = ['member', 'admin', 'client', 'peer', 'orderer'] as const;
export type Role = (typeof ROLES)[number];

/** msp.MSPRole.MSPRoleType numbers. */
const ROLE_NUMBERS: Readonly<Record<Role, number>> = { member: 0, admin: 1, client: 2, peer: 3, orderer: 4 };

export interface Principal {
  readonly mspId: string;
  readonly role: Role;
}

export type Policy =
  | { readonly type: 'signedBy'; readonly principal: Principal }
  | { readonly type: 'outOf'; readonly n: number; readonly rules: readonly Policy[] };

/** A verified signer: its MSP and the roles its certificate gives it (`member` always). */
export interface Signer {
  readonly mspId: string;
  readonly roles: ReadonlySet<Role>;
}

export class PolicyParseError extends Error {
  constructor(text: string, detail: string) {
    super(`invalid endorsement policy ${JSON.stringify(text)}: ${detail}; write e.g. AND('Org1MSP.peer','Org2MSP.peer')`);
    this.name = 'PolicyParseError';
  }
}

/** Parses `AND(…)`, `OR(…)`, `OutOf(n, …)` with `'MSP.role'` principals (quotes optional). */
export function parsePolicy(text: string): Policy {
  let pos = 0;
  const fail = (detail: string): never => {
    throw new PolicyParseError(text, `${detail} at offset ${pos}`);
  };
  const skip = () => {
    while (pos < text.length && /\s/.test(text[pos] as string)) pos++;
  };
  const word = (): string => {
    skip();
    const m = /^[A-Za-z0-9_.-]+/.exec(text.slice(pos));
    if (!m) return fail('expected a name');
    pos += m[0].length;
    return m[0];
  };
  const expect = (ch: string) => {
    skip();
    if (text[pos] !== ch) fail(`expected '${ch}'`);
    pos++;
  };
  const principal = (raw: string): Policy => {
    const dot = raw.lastIndexOf('.');
    const role = raw.slice(dot + 1).toLowerCase();
    if (dot <= 0 || !(ROLES as readonly string[]).includes(role)) {
      return fail(`principal ${JSON.stringify(raw)} is not MSP.role with role one of ${ROLES.join(', ')}`);
    }
    return { type: 'signedBy', principal: { mspId: raw.slice(0, dot), role: role as Role } };
  };
  const expr = (): Policy => {
    skip();
    const quote = text[pos];
    if (quote === "'" || quote === '"') {
      const end = text.indexOf(quote, pos + 1);
      if (end < 0) fail('unterminated quote');
      const raw = text.slice(pos + 1, end);
      pos = end + 1;
      return principal(raw);
    }
    const name = word();
    skip();
    if (text[pos] !== '(') return principal(name);
    pos++;
    const op = name.toLowerCase();
    let n: number | undefined;
    if (op === 'outof') {
      const count = word();
      if (!/^\d+$/.test(count)) fail('OutOf needs a count first');
      n = Number(count);
      expect(',');
    } else if (op !== 'and' && op !== 'or') {
      fail(`unknown operator ${name}; use AND, OR or OutOf`);
    }
    const rules: Policy[] = [expr()];
    skip();
    while (text[pos] === ',') {
      pos++;
      rules.push(expr());
      skip();
    }
    expect(')');
    const count = op === 'and' ? rules.length : op === 'or' ? 1 : (n as number);
    if (count < 1 || count > rules.length) fail(`OutOf(${count}) over ${rules.length} rules`);
    return { type: 'outOf', n: count, rules };
  };
  const policy = expr();
  skip();
  if (pos !== text.length) fail('unexpected text after the policy');
  return policy;
}

/** The policy back in the language (`AND`/`OR` where they fit, `OutOf` otherwise). */
export function formatPolicy(policy: Policy): string {
  if (policy.type === 'signedBy') return `'${policy.principal.mspId}.${policy.principal.role}'`;
  const inner = policy.rules.map(formatPolicy).join(',');
  if (policy.n === policy.rules.length) return `AND(${inner})`;
  if (policy.n === 1) return `OR(${inner})`;
  return `OutOf(${policy.n},${inner})`;
}

/** Evaluates as Fabric's cauthdsl: every signer satisfies at most one principal. */
export function evaluatePolicy(policy: Policy, signers: readonly Signer[]): boolean {
  const used = signers.map(() => false);
  return evaluate(policy, signers, used);
}

function evaluate(policy: Policy, signers: readonly Signer[], used: boolean[]): boolean {
  if (policy.type === 'signedBy') {
    const { mspId, role } = policy.principal;
    for (let i = 0; i < signers.length; i++) {
      const s = signers[i] as Signer;
      if (used[i] || s.mspId !== mspId || !s.roles.has(role)) continue;
      used[i] = true;
      return true;
    }
    return false;
  }
  let verified = 0;
  for (const rule of policy.rules) {
    const trial = [...used];
    if (evaluate(rule, signers, trial)) {
      verified++;
      for (let i = 0; i < trial.length; i++) used[i] = trial[i] as boolean;
    }
  }
  return verified >= policy.n;
}

/**
 * The MSP ids whose peers a client should ask to endorse: a small set that can satisfy the policy,
 * taken from the rules that mention a `preferred` org first (the caller's own org, or the orgs that
 * endorsed already), so an `OR` or `OutOf` picks those.
 */
export function endorsingOrgs(policy: Policy, preferred: readonly string[] = []): string[] {
  const ordered = preferred.length > 0 ? preferOrgs(policy, new Set(preferred)) : policy;
  return [...new Set(pick(ordered))];
}

function pick(policy: Policy): string[] {
  if (policy.type === 'signedBy') return [policy.principal.mspId];
  return policy.rules.slice(0, policy.n).flatMap(pick);
}

/** The same policy with the rules that mention a preferred org first. */
function preferOrgs(policy: Policy, preferred: ReadonlySet<string>): Policy {
  if (policy.type === 'signedBy') return policy;
  const mentions = (p: Policy): boolean => (p.type === 'signedBy' ? preferred.has(p.principal.mspId) : p.rules.some(mentions));
  const rules = [...policy.rules.filter(mentions), ...policy.rules.filter((r) => !mentions(r))].map((r) => preferOrgs(r, preferred));
  return { ...policy, rules };
}

/** `common.SignaturePolicyEnvelope` bytes of a policy (MSPRole principals, as KeyEndorsementPolicy writes). */
export function encodePolicy(policy: Policy): Uint8Array {
  const principals: Principal[] = [];
  const indexOf = (p: Principal): number => {
    const i = principals.findIndex((q) => q.mspId === p.mspId && q.role === p.role);
    if (i >= 0) return i;
    principals.push(p);
    return principals.length - 1;
  };
  const toProto = (p: Policy): common.SignaturePolicy => {
    const sp = new common.SignaturePolicy();
    if (p.type === 'signedBy') {
      sp.setSignedBy(indexOf(p.principal));
      return sp;
    }
    const nOutOf = new common.SignaturePolicy.NOutOf();
    nOutOf.setN(p.n);
    nOutOf.setRulesList(p.rules.map(toProto));
    sp.setNOutOf(nOutOf);
    return sp;
  };
  const envelope = new common.SignaturePolicyEnvelope();
  envelope.setVersion(0);
  envelope.setRule(toProto(policy));
  envelope.setIdentitiesList(
    principals.map((p) => {
      const role = new msp.MSPRole();
      role.setMspIdentifier(p.mspId);
      role.setRole(ROLE_NUMBERS[p.role] as never);
      const principal = new msp.MSPPrincipal();
      principal.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
      principal.setPrincipal(role.serializeBinary());
      return principal;
    }),
  );
  return envelope.serializeBinary();
}

/** Reads a `common.SignaturePolicyEnvelope` (e.g. a key's VALIDATION_PARAMETER). Throws on a malformed one. */
export function decodePolicy(bytes: Uint8Array): Policy {
  const envelope = common.SignaturePolicyEnvelope.deserializeBinary(bytes);
  const principals = envelope.getIdentitiesList().map((p): Principal => {
    if (p.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) {
      throw new Error('only ROLE principals are supported in signature policies');
    }
    const role = msp.MSPRole.deserializeBinary(p.getPrincipal_asU8());
    const name = ROLES[role.getRole()];
    if (name === undefined) throw new Error(`unknown MSP role ${role.getRole()}`);
    return { mspId: role.getMspIdentifier(), role: name };
  });
  const fromProto = (sp: common.SignaturePolicy | undefined, depth: number): Policy => {
    if (!sp || depth > 32) throw new Error('empty or too deep signature policy');
    if (sp.hasNOutOf()) {
      const nOutOf = sp.getNOutOf() as common.SignaturePolicy.NOutOf;
      return { type: 'outOf', n: nOutOf.getN(), rules: nOutOf.getRulesList().map((r) => fromProto(r, depth + 1)) };
    }
    const principal = principals[sp.getSignedBy()];
    if (!principal) throw new Error(`signed_by ${sp.getSignedBy()} names no identity`);
    return { type: 'signedBy', principal };
  };
  return fromProto(envelope.getRule(), 0);
}
