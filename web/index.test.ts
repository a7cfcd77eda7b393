import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { DASHBOARD_ASSETS_PATH, DASHBOARD_FILES, registerDashboard } from './index.ts';

test('the page at / and its assets, with a content security policy of this origin only', async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  registerDashboard(app);
  const page = await app.inject({ method: 'GET', url: '/' });
  t.assert.equal(page.statusCode, 200);
  t.assert.match(String(page.headers['content-type']), /^text\/html/);
  t.assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  t.assert.match(page.body, /<script type="module" src="\/web\/app\.js">/);
  for (const name of DASHBOARD_FILES.filter((n) => n !== 'index.html')) {
    const r = await app.inject({ method: 'GET', url: `${DASHBOARD_ASSETS_PATH}/${name}` });
    t.assert.equal(r.statusCode, 200, name);
    t.assert.equal(r.headers['x-content-type-options'], 'nosniff');
  }
  t.assert.equal((await app.inject({ method: 'GET', url: `${DASHBOARD_ASSETS_PATH}/../index.ts` })).statusCode, 404);
});

test('the page works offline: no file loads anything from another origin', (t) => {
  for (const name of DASHBOARD_FILES) {
    const text = readFileSync(join(import.meta.dirname, 'static', name), 'utf8');
    // The SVG namespace is a name, not a request.
    const urls = [...text.matchAll(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"]*/gi)].map((m) => m[0]).filter((u) => !u.startsWith('http://www.w3.org/2000/svg'));
    t.assert.deepEqual(urls, [], name);
  }
});
