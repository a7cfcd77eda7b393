// The dashboard: a page per hash route (#/events, #/events/ID, #/events/ID/customers/CID,
// #/customers, #/fleet, #/ledger), everything read from the admin API with the operator's bearer
// token and read again every few seconds (the data area is redrawn, forms are left alone).
// Values from the API are written with textContent only, never as HTML.
import { fmt, slotChart } from './charts.js';

const API = '/api/v1';
const TOKEN_KEY = 'oadr-ledger.admin-token';
/** How often the page reads the admin API again, ms (`#…?refresh=N` seconds changes it). */
const REFRESH_MS = 5000;

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';

// A token in the address (`/#token=…`, as a demo prints it) is taken and removed from the address.
{
  const m = /[#&]token=([^&]+)/.exec(location.hash);
  if (m) {
    token = decodeURIComponent(m[1]);
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', `${location.pathname}#/events`);
  }
}

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = { authorization: `Bearer ${token}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${API}${path}`, { method: options.method ?? 'GET', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  if (res.status === 204) return undefined;
  const text = await res.text();
  const body = text === '' ? undefined : JSON.parse(text);
  if (!res.ok) {
    if (res.status === 401) showLogin(body?.detail ?? 'the token was refused');
    throw new ApiError(res.status, body?.detail ?? `HTTP ${res.status}`);
  }
  return body;
}

// ---- small DOM helpers ---------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** A table: columns [{ title, cell(row) → Node|string, cls }], one <tr data-key> per row. */
function table(rows, columns, key) {
  return h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c.title)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, 'none yet'))
      : rows.map((r) => h('tr', { 'data-key': key?.(r) }, columns.map((c) => h('td', { class: c.cls, 'data-col': c.col }, c.cell(r)))))),
  ));
}

const time = (ms) => (ms === undefined || ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z');
const watts = (values) => (values === undefined || values === null ? '—' : values.map((v) => fmt(v)).join(' / '));
const ago = (ms) => {
  if (ms === undefined || ms === null) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : time(ms);
};
const tokens = (milli) => (milli === null || milli === undefined ? '—' : fmt(milli / 1000));
const pill = (text, cls = text) => h('span', { class: `pill ${cls}` }, text);

/** Swallows 403 (a retailer token), 404 and 501 (this ledger lacks the feature), as undefined. */
async function optional(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof ApiError && [403, 404, 501].includes(err.status)) return undefined;
    throw err;
  }
}

/** An operator form: fields, a submit button, the result line; `run(values)` does the call. */
function actionForm(title, fields, run, done) {
  const out = h('p', { class: 'result', role: 'status' });
  const form = h('form', { class: 'action', 'data-action': title },
    h('h3', {}, title),
    fields.map((f) => h('label', {}, f.label, f.type === 'select'
      ? h('select', { name: f.name }, f.options.map((o) => h('option', { value: o }, o)))
      : h('input', { name: f.name, type: f.type ?? 'text', placeholder: f.placeholder ?? '', value: f.value ?? '', required: f.required, step: f.step }))),
    h('button', { type: 'submit' }, title),
    out,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    out.className = 'result';
    out.textContent = '…';
    try {
      const r = await run(values);
      out.textContent = typeof r === 'string' ? r : 'done';
      await refresh();
      done?.(r);
    } catch (err) {
      out.className = 'result error';
      out.textContent = err.message;
    }
  });
  return form;
}

/** '300' → 300, '300, 200' → [300, 200]. */
const perSlot = (text) => {
  const v = String(text).split(/[\s,;/]+/).filter((s) => s !== '').map(Number);
  if (v.length === 0 || v.some((n) => !Number.isFinite(n))) throw new Error('give watts as a number, or one number per slot separated by commas');
  return v.length === 1 ? v[0] : v;
};

// ---- pages ---------------------------------------------------------------------------------

const pages = {
  async events() {
    const events = await api('/events');
    events.sort((a, b) => b.event.startMs - a.event.startMs);
    return {
      title: 'Events',
      data: table(events, [
        { title: 'event', col: 'eventId', cell: (e) => h('a', { href: `#/events/${encodeURIComponent(e.event.eventId)}` }, e.event.eventId) },
        { title: 'status', col: 'status', cell: (e) => pill(e.status) },
        { title: 'start', col: 'start', cell: (e) => time(e.event.startMs) },
        { title: 'slots', col: 'slots', cell: (e) => String(e.event.intervalsMs.length) },
        { title: 'VENs', col: 'vens', cell: (e) => String(e.vens.length) },
        { title: 'settlement', col: 'settlement', cell: (e) => e.settlement ?? '—' },
      ], (e) => e.event.eventId),
      actions: () => [actionForm('Create event', [
        { name: 'start', label: 'start (ISO 8601)', placeholder: '2030-01-15T07:00:00Z', required: true },
        { name: 'slots', label: 'slots (15 min each)', type: 'number', value: '4', required: true },
        { name: 'reductionW', label: 'total reduction, W (one, or one per slot)', value: '300', required: true },
        { name: 'customers', label: 'customers (comma-separated; empty: all)' },
      ], async (v) => {
        const ids = v.customers.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const r = await api('/events', { method: 'POST', body: { start: new Date(v.start).toISOString(), slots: Number(v.slots), reductionW: perSlot(v.reductionW), targets: ids.length === 0 ? 'all' : { customerIds: ids } } });
        location.hash = `#/events/${encodeURIComponent(r.event.eventId)}`;
        return `created ${r.event.eventId}`;
      })],
    };
  },

  async event(eventId) {
    const [e, totals, claims] = await Promise.all([
      api(`/events/${encodeURIComponent(eventId)}`),
      optional(api(`/events/${encodeURIComponent(eventId)}/ledger`)),
      optional(api(`/events/${encodeURIComponent(eventId)}/claims`)),
    ]);
    const recorded = (claims ?? []).filter((c) => c.status === 'recorded');
    const end = e.event.startMs + e.event.intervalsMs.reduce((a, b) => a + b, 0);
    const facts = [
      ['status', pill(e.status)],
      ['settlement', e.settlement ?? '—'],
      ['start', time(e.event.startMs)],
      ['end', time(end)],
      ['modification', String(e.event.modificationNumber)],
      ['program', e.event.programId],
    ];
    if (totals) {
      facts.push(['requested, W', h('span', { 'data-field': 'requestW' }, watts(totals.requestW))]);
      facts.push(['unallocated, W', h('span', { 'data-field': 'unallocatedW' }, watts(totals.unallocatedW))]);
      if (typeof totals.mintedMilli === 'number') facts.push(['tokens minted', tokens(totals.mintedMilli)]);
    }
    const without = (e.customersWithoutVen ?? []).map((c) => h('li', {}, `${c}: allocated, its VEN has not registered yet`));
    return {
      title: `Event ${eventId}`,
      data: h('div', {},
        h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
        h('h3', {}, 'Customers'),
        table(e.vens, [
          { title: 'customer', col: 'customer', cell: (v) => (v.customerId ? h('a', { href: `#/events/${encodeURIComponent(eventId)}/customers/${encodeURIComponent(v.customerId)}` }, v.customerId) : '—') },
          { title: 'VEN', col: 'venId', cell: (v) => v.venId },
          { title: 'OPR, W per slot', col: 'opr', cell: (v) => watts(v.oprW ?? v.values?.[Object.keys(v.values)[0]]) },
          { title: 'opt', col: 'opt', cell: (v) => (v.optType ? pill(v.optType) : pill('no answer', 'none')) },
          { title: 'delivered', col: 'delivered', cell: (v) => (v.lastDeliveredAt === undefined ? pill('queued', 'none') : time(v.lastDeliveredAt)) },
          { title: 'telemetry', col: 'telemetry', cell: (v) => String(v.telemetryPoints ?? 0) },
        ], (v) => v.customerId ?? v.venId),
        without.length === 0 ? '' : h('ul', {}, without),
        claims === undefined ? '' : [
          h('h3', {}, 'Flexibility claims'),
          table(claims, [
            { title: 'period', col: 'period', cell: (c) => `${time(Date.parse(c.periodStart))} – ${time(Date.parse(c.periodEnd)).slice(11)}` },
            { title: 'status', col: 'status', cell: (c) => pill(c.status) },
            { title: 'aggregate, W', col: 'powerW', cell: (c) => (c.powerW === null ? '—' : fmt(c.powerW)) },
            { title: 'customers', col: 'customers', cell: (c) => String(c.customers) },
            { title: 'missing', col: 'missing', cell: (c) => String(c.missing) },
            { title: 'reasons', col: 'reasons', cell: (c) => c.reasons.join('; ') },
          ], (c) => c.claimId),
        ],
      ),
      actions: () => [
        ...(recorded.length === 0 ? [] : [actionForm('Confirm claim', [{ name: 'claimId', label: 'claim', type: 'select', options: recorded.map((c) => c.claimId) }], async (v) => {
          const c = await api(`/events/${encodeURIComponent(eventId)}/claims/${encodeURIComponent(v.claimId)}/validate`, { method: 'POST' });
          return `${c.claimId} ${c.status}`;
        })]),
        actionForm('Modify event', [{ name: 'reductionW', label: 'new total reduction, W', required: true }, { name: 'reason', label: 'reason' }], async (v) => {
          await api(`/events/${encodeURIComponent(eventId)}`, { method: 'PATCH', body: { reductionW: perSlot(v.reductionW), ...(v.reason ? { modificationReason: v.reason } : {}) } });
          return 'modified';
        }),
        actionForm('Cancel event', [{ name: 'reason', label: 'reason' }], async (v) => {
          await api(`/events/${encodeURIComponent(eventId)}/cancel`, { method: 'POST', body: v.reason ? { reason: v.reason } : {} });
          return 'cancelled';
        }),
        actionForm('Settle event', [], async () => {
          const s = await api(`/events/${encodeURIComponent(eventId)}/settle`, { method: 'POST' });
          return `${s.status}: ${Object.entries(s.rewardsMilli ?? {}).map(([c, m]) => `${c} ${tokens(m)}`).join(', ')}`;
        }),
      ],
    };
  },

  async customerEvent(eventId, customerId) {
    const d = await api(`/customers/${encodeURIComponent(customerId)}/events/${encodeURIComponent(eventId)}`);
    const n = d.slotStarts.length;
    // Slots of the contract day, labelled in its own time (the program's time zone): slot × 24 h / n.
    const labels = Array.from({ length: n + 1 }, (_, s) => `${String(Math.floor((s * 24) / n)).padStart(2, '0')}:${String(Math.round((((s * 24) / n) % 1) * 60)).padStart(2, '0')}`);
    const first = d.window[0];
    const last = d.window[d.window.length - 1] + 1;
    const inWindow = (perWindowSlot) => {
      const day = new Array(n).fill(null);
      d.window.forEach((slot, k) => (day[slot] = perWindowSlot[k]));
      return day;
    };
    const tokensPerSlot = d.tokensMilli === null ? null : d.tokensMilli.map((m) => m / 1000);
    return {
      title: `${customerId} in ${eventId}`,
      data: h('div', {},
        h('dl', { class: 'facts' },
          h('dt', {}, 'day'), h('dd', {}, d.date),
          h('dt', {}, 'event'), h('dd', {}, h('a', { href: `#/events/${encodeURIComponent(eventId)}` }, eventId), ' ', pill(d.status)),
          h('dt', {}, 'tokens earned'), h('dd', { 'data-field': 'totalTokens' }, d.totalTokensMilli === null ? 'not settled yet' : tokens(d.totalTokensMilli)),
          h('dt', {}, 'balance'), h('dd', { 'data-field': 'balance' }, tokens(d.balanceMilli)),
          d.baselineW === null ? [h('dt', {}, 'baseline'), h('dd', {}, 'none for this day: not enough history')] : '',
        ),
        h('div', { class: 'charts' },
          slotChart({ title: 'Power: baseline, measured and target', slots: n, labels, yUnit: 'W', shade: [first, last], series: [
            { name: 'baseline', cls: 'baseline', kind: 'line', values: d.baselineW ?? new Array(n).fill(null) },
            { name: 'measured', cls: 'measured', kind: 'line', values: d.measuredW },
            { name: 'target', cls: 'target', kind: 'line', values: inWindow(d.targetW) },
          ] }),
          slotChart({ title: 'Optimal power reduction (OPR) per slot', slots: n, labels, yUnit: 'W', shade: [first, last], series: [{ name: 'OPR', cls: 'opr', kind: 'bar', values: inWindow(d.oprW) }] }),
          slotChart({ title: 'Tokens per slot', slots: n, labels, yUnit: 'tokens', shade: [first, last], series: [{ name: 'tokens', cls: 'tokens', kind: 'bar', values: tokensPerSlot === null ? new Array(n).fill(null) : inWindow(tokensPerSlot) }] }),
          slotChart({ title: 'Availability profile', slots: n, labels, yUnit: 'A', yMax: 1, shade: [first, last], series: [{ name: 'availability', cls: 'availability', kind: 'line', values: d.availability }] }),
        ),
      ),
    };
  },

  async customers() {
    const customers = await api('/customers');
    return {
      title: 'Customers',
      data: table(customers, [
        { title: 'customer', col: 'customerId', cell: (c) => c.customerId },
        { title: 'VEN name', col: 'venName', cell: (c) => c.venName ?? '—' },
        { title: 'venID', col: 'venId', cell: (c) => c.venId ?? '—' },
        { title: 'meter', col: 'meterId', cell: (c) => c.meterId ?? c.customerId },
        { title: 'retailer', col: 'retailer', cell: (c) => c.retailer ?? '—' },
        { title: 'enrolled', col: 'enrolled', cell: (c) => time(c.enrolledAt) },
      ], (c) => c.customerId),
      actions: () => [actionForm('Enrol customer', [
        { name: 'customerId', label: 'customer id', required: true },
        { name: 'venName', label: 'VEN name' },
        { name: 'meterId', label: 'meter id (default: the customer id)' },
        { name: 'retailer', label: 'retailer' },
      ], async (v) => {
        const body = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== ''));
        const c = await api('/customers', { method: 'POST', body });
        return `enrolled ${c.customerId}`;
      })],
    };
  },

  async fleet() {
    const vens = await api('/vens');
    return {
      title: 'Fleet',
      data: table(vens, [
        { title: 'VEN', col: 'venId', cell: (v) => v.venId },
        { title: 'name', col: 'venName', cell: (v) => v.venName ?? '—' },
        { title: 'customer', col: 'customer', cell: (v) => v.customerId },
        { title: 'transport', col: 'transport', cell: (v) => v.transport },
        // 2.0a VENs send no reports: their customers' delivery is measured from the meter history the operator imports.
        { title: 'profile', col: 'profile', cell: (v) => (v.profileName === '2.0a' ? h('span', { title: 'a 2.0a VEN sends no reports: its delivery is measured from imported meter data' }, '2.0a · delivery from imported meter data') : v.profileName) },
        { title: 'state', col: 'state', cell: (v) => v.state },
        { title: 'online', col: 'online', cell: (v) => pill(v.online ? 'online' : 'offline') },
        { title: 'last contact', col: 'lastContact', cell: (v) => ago(v.lastContactAt) },
        { title: 'queue', col: 'queueDepth', cell: (v) => String(v.queueDepth) },
      ], (v) => v.venId),
    };
  },

  async ledger() {
    const blocks = (await optional(api('/ledger/blocks?limit=20'))) ?? [];
    const short = (hex) => h('code', { title: hex }, `${hex.slice(0, 12)}…`);
    return {
      title: 'Ledger',
      data: table(blocks, [
        { title: 'block', col: 'number', cell: (b) => String(b.number) },
        { title: 'data hash', col: 'dataHash', cell: (b) => short(b.dataHash) },
        { title: 'previous hash', col: 'previousHash', cell: (b) => short(b.previousHash) },
        { title: 'transactions', col: 'txs', cell: (b) => h('ul', { class: 'txs' }, b.transactions.map((t) => h('li', {}, `${t.fn} `, pill(t.validationCode, t.validationCode === 'VALID' ? 'valid' : 'invalid')))) },
      ], (b) => String(b.number)),
      actions: () => [actionForm('Verify ledger', [], async () => {
        const r = await api('/ledger/verify', { method: 'POST' });
        const summary = `${r.ok ? 'OK' : 'PROBLEMS'}: ${r.blocks} blocks, ${r.transactions} transactions (${r.validTransactions} valid), ${r.stateKeys} state keys`;
        return r.ok ? summary : `${summary}; ${r.problems.map((p) => `block ${p.blockNumber}: ${p.message}`).join('; ')}`;
      })],
    };
  },
};

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('?')[0].split('/').map(decodeURIComponent);
  if (parts[0] === 'events' && parts[1] && parts[2] === 'customers' && parts[3]) return { nav: 'events', key: location.hash, load: () => pages.customerEvent(parts[1], parts[3]) };
  if (parts[0] === 'events' && parts[1]) return { nav: 'events', key: location.hash, load: () => pages.event(parts[1]) };
  const name = ['customers', 'fleet', 'ledger'].includes(parts[0]) ? parts[0] : 'events';
  return { nav: name, key: `#/${name}`, load: () => pages[name]() };
}

// ---- the loop ------------------------------------------------------------------------------

let shown = '';
let busy = false;
let again = false;

async function refresh() {
  if (token === '') return;
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  const r = route();
  try {
    const page = await r.load();
    if (route().key !== r.key) return; // the operator moved on meanwhile
    const view = $('view');
    if (shown !== r.key) {
      // A new page: title, data and forms; later refreshes redraw the data only.
      view.replaceChildren(h('h2', {}, page.title), h('div', { id: 'data' }), h('div', { id: 'actions', class: 'actions' }, page.actions?.() ?? []));
      shown = r.key;
      for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('current', a.dataset.nav === r.nav);
    }
    $('data').replaceChildren(page.data);
    $('status').textContent = '';
    $('live').textContent = '●';
    $('live').title = `updated ${new Date().toISOString()}`;
    document.body.dataset.loaded = r.key;
  } catch (err) {
    $('live').textContent = '○';
    if (!(err instanceof ApiError && err.status === 401)) $('status').textContent = err.message;
  } finally {
    busy = false;
    if (again) {
      again = false;
      void refresh();
    }
  }
}

function showLogin(message = '') {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  $('login').hidden = false;
  $('view').hidden = true;
  $('logout').hidden = true;
  $('login-error').textContent = message;
}

function showApp() {
  $('login').hidden = true;
  $('view').hidden = false;
  $('logout').hidden = false;
  shown = '';
  void refresh();
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  showApp();
});
$('logout').addEventListener('click', () => showLogin());
addEventListener('hashchange', () => void refresh());
const every = Number(/[?&]refresh=(\d+)/.exec(location.hash)?.[1] ?? 0) * 1000 || REFRESH_MS;
setInterval(() => {
  if (document.visibilityState === 'visible') void refresh();
}, every);

if (token === '') showLogin();
else showApp();
