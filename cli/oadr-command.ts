/**
 * `oadr-ledger oadr …`: the message layer from the command line, for anyone debugging OpenADR
 * traffic. Exit codes: 0 ok, 1 invalid input, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { validateXsd } from '../conformance/index.ts';
import { checkPayloadRules, decodeOadr, encodeOadr, OadrCodecError, type OadrMessage } from '../oadr/index.ts';

export const OADR_USAGE = `Usage: oadr-ledger oadr <decode|encode|validate> FILE

  decode FILE       read an OpenADR 2.0b message (XML, any namespace prefixes) and print it as
                    JSON in our model
  encode FILE       read such JSON and print the XML message (valid against the 2.0b XSD)
  validate FILE     check an XML message against the official XSD (needs xmllint) and the
                    payload rules of the 2.0b profile; print what is wrong

FILE may be - for standard input. Options: --max-bytes N (default 1048576).
Without an action this help. Exit codes: 0 ok or help, 1 invalid input, 2 usage error.
`;

const OK = 0;
const INVALID = 1;
const USAGE = 2;

export async function runOadrCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' }, 'max-bytes': { type: 'string' } } });
  } catch (err) {
    process.stderr.write(`oadr-ledger oadr: ${(err as Error).message}\n\n${OADR_USAGE}`);
    return USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(OADR_USAGE);
    return OK;
  }
  const [action, file, ...extra] = positionals;
  if (action === undefined) {
    process.stdout.write(OADR_USAGE);
    return OK;
  }
  if (action === undefined || file === undefined || extra.length > 0 || !['decode', 'encode', 'validate'].includes(action)) {
    process.stderr.write(OADR_USAGE);
    return USAGE;
  }
  const maxBytes = values['max-bytes'] === undefined ? undefined : Number(values['max-bytes']);
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) {
    process.stderr.write(`oadr-ledger oadr: --max-bytes must be a positive integer\n`);
    return USAGE;
  }
  let input: Buffer;
  try {
    input = readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    process.stderr.write(`oadr-ledger oadr: cannot read ${file}: ${(err as Error).message}\n`);
    return USAGE;
  }
  try {
    switch (action) {
      case 'decode':
        process.stdout.write(`${JSON.stringify(decodeOadr(input, { maxBytes }), null, 2)}\n`);
        return OK;
      case 'encode':
        return encode(input);
      default:
        return await validate(input, maxBytes);
    }
  } catch (err) {
    process.stderr.write(`${describe(err)}\n`);
    return INVALID;
  }
}

function encode(input: Buffer): number {
  let json: unknown;
  try {
    json = JSON.parse(input.toString('utf8'));
  } catch (err) {
    process.stderr.write(`not JSON: ${(err as Error).message}\n`);
    return INVALID;
  }
  process.stdout.write(`${encodeOadr(json as OadrMessage)}\n`);
  return OK;
}

async function validate(input: Buffer, maxBytes: number | undefined): Promise<number> {
  const problems: string[] = [];
  const xsd = await validateXsd(input.toString('utf8'));
  for (const e of xsd.errors) problems.push(`XSD: ${e}`);
  let message: OadrMessage | undefined;
  try {
    message = decodeOadr(input, { maxBytes });
  } catch (err) {
    problems.push(describe(err));
  }
  if (message !== undefined) {
    for (const f of checkPayloadRules(message)) {
      problems.push(`${f.rule} ${f.severity} (answer ${f.responseCode}) at ${f.where}: ${f.message}`);
    }
  }
  const errors = problems.filter((p) => !/^R\d+ warning/.test(p));
  for (const p of problems) process.stdout.write(`${p}\n`);
  const what = message === undefined ? 'message' : message.payload.type;
  process.stdout.write(errors.length === 0 ? `valid ${what}${problems.length > 0 ? ` (${problems.length} warning(s))` : ''}\n` : `invalid ${what}: ${errors.length} problem(s)\n`);
  return errors.length === 0 ? OK : INVALID;
}

function describe(err: unknown): string {
  if (err instanceof OadrCodecError) {
    const answer = err.transport ? `transport error, HTTP ${err.httpStatus}` : `response code ${err.responseCode}`;
    return `${err.code} (${answer}): ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
