/**
 * Indents an XML body for reading: one element per line, text kept beside its tags. Works on
 * anything (a body that is not XML, or is cut off, comes out as well as it can) and never throws.
 * A body that does not start with `<` is returned as it is.
 */
const TOKEN = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<![^>]*>|<\/?[^>]*>|[^<]+/g;

export function prettyXml(body: string): string {
  const text = body.trim();
  if (!text.startsWith('<')) return body;
  const lines: string[] = [];
  let depth = 0;
  let open: string | undefined; // a start tag whose text may follow on the same line
  for (const m of text.matchAll(TOKEN)) {
    const tok = m[0];
    if (!tok.startsWith('<')) {
      const t = tok.trim();
      if (t === '') continue;
      if (open !== undefined && lines.length > 0) lines[lines.length - 1] += t;
      else lines.push(`${'  '.repeat(depth)}${t}`);
      continue;
    }
    if (tok.startsWith('</')) {
      depth = Math.max(0, depth - 1);
      const last = lines[lines.length - 1];
      if (open !== undefined && last !== undefined) lines[lines.length - 1] = last + tok;
      else lines.push(`${'  '.repeat(depth)}${tok}`);
      open = undefined;
      continue;
    }
    lines.push(`${'  '.repeat(depth)}${tok}`);
    const opens = !tok.endsWith('/>') && !tok.startsWith('<?') && !tok.startsWith('<!');
    open = opens ? tok : undefined;
    if (opens) depth += 1;
  }
  return lines.join('\n');
}
