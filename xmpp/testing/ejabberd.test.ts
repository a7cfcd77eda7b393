/**
 * docs/xmpp.md recommends the ejabberd configuration the tests run: its YAML block is what
 * `ejabberdConfiguration` generates for the documented domain, certificate and ports.
 */
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ejabberdConfiguration } from './ejabberd.ts';

test('docs/xmpp.md shows the ejabberd configuration the tests generate', (t) => {
  const doc = readFileSync(new URL('../../docs/xmpp.md', import.meta.url), 'utf8');
  const block = /```yaml\n# \/etc\/ejabberd\/ejabberd\.yml\n([\s\S]*?)```/.exec(doc)?.[1];
  const expected = ejabberdConfiguration({ domain: 'openadr.example.org', certfile: '/etc/ejabberd/openadr.example.org.pem', port: 5222, ip: '0.0.0.0', apiPort: 5281, vtnJid: 'vtn@openadr.example.org' });
  t.assert.equal(block, expected);
});
