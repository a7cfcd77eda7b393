// Hand-written SVG charts: a day of slots on the x axis, lines (step lines, one value per slot) and
// bars, an optional shaded window. Each series is drawn as one element carrying its values in
// `data-values` (JSON), so what the chart shows can be read back exactly; each chart also has its
// numbers in a table (a <details> under it).

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A round step for the y axis: 1, 2 or 5 × 10^n, about `count` ticks up to `max`. */
function niceStep(max, count) {
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/**
 * chart({ title, slots, labels, yUnit, shade: [from, to], series: [{ name, cls, kind: 'line'|'bar',
 * values: (number|null)[] indexed by slot }] }) → <figure>.
 */
export function slotChart(o) {
  const W = 720, H = 270, L = 52, R = 14, T = 22, B = 30;
  const n = o.slots;
  const all = o.series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
  const top = Math.max(o.yMax ?? 0, ...all, 0);
  const bottom = Math.min(0, ...all);
  // All zero (no tokens yet): a scale of 0…1 rather than one of nothing.
  const step = niceStep(top - bottom > 0 ? top - bottom : 1, 4);
  const yMax = Math.ceil(top / step) * step || step;
  const yMin = Math.floor(bottom / step) * step;
  const x = (slot) => L + ((W - L - R) * slot) / n;
  const y = (v) => T + ((H - T - B) * (yMax - v)) / (yMax - yMin);
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': o.title, class: 'chart' });
  if (o.shade) {
    svg.append(el('rect', { class: 'window', x: x(o.shade[0]), y: T, width: x(o.shade[1]) - x(o.shade[0]), height: H - T - B, 'data-from': o.shade[0], 'data-to': o.shade[1] }));
  }
  for (let v = yMin; v <= yMax + step / 2; v += step) {
    svg.append(el('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    svg.append(el('text', { class: 'tick', x: L - 4, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  const every = Math.max(1, Math.round(n / 8));
  for (let s = 0; s <= n; s += every) {
    svg.append(el('text', { class: 'tick', x: x(s), y: H - B + 16, 'text-anchor': 'middle' }, o.labels?.[s] ?? String(s)));
  }
  svg.append(el('text', { class: 'unit', x: 4, y: 11 }, o.yUnit));
  const bars = o.series.filter((s) => s.kind === 'bar');
  o.series.forEach((s) => {
    const g = el('g', { class: `series ${s.cls}`, 'data-series': s.name, 'data-values': JSON.stringify(s.values) });
    if (s.kind === 'bar') {
      const k = bars.indexOf(s);
      const bw = (x(1) - x(0)) / bars.length;
      s.values.forEach((v, slot) => {
        if (v === null || v === undefined) return;
        const r = el('rect', { x: x(slot) + k * bw, y: Math.min(y(v), y(0)), width: Math.max(bw - 0.5, 0.5), height: Math.abs(y(0) - y(v)) });
        r.append(el('title', {}, `${o.labels?.[slot] ?? slot}: ${fmt(v)} ${o.yUnit}`));
        g.append(r);
      });
    } else {
      // A step line: each slot's value held over the slot; gaps where there is none.
      let d = '';
      let pen = false;
      s.values.forEach((v, slot) => {
        if (v === null || v === undefined) { pen = false; return; }
        d += `${pen ? 'L' : 'M'}${x(slot).toFixed(1)},${y(v).toFixed(1)}H${x(slot + 1).toFixed(1)}`;
        pen = true;
      });
      g.append(el('path', { d }));
    }
    svg.append(g);
  });
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = o.title;
  const legend = document.createElement('span');
  legend.className = 'legend';
  for (const s of o.series) {
    const item = document.createElement('span');
    item.className = `key ${s.cls}`;
    item.textContent = s.name;
    legend.append(item);
  }
  if (o.shade) {
    const item = document.createElement('span');
    item.className = 'key window';
    item.textContent = 'event window';
    legend.append(item);
  }
  cap.append(legend);
  fig.append(cap, svg, numbersTable(o));
  return fig;
}

/** The chart's numbers, one row per slot that has a value. */
function numbersTable(o) {
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = 'numbers';
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const h of ['slot', ...o.series.map((s) => `${s.name} (${o.yUnit})`)]) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (let slot = 0; slot < o.slots; slot++) {
    const cells = o.series.map((s) => s.values[slot]);
    if (cells.every((v) => v === null || v === undefined)) continue;
    const row = body.insertRow();
    row.insertCell().textContent = o.labels?.[slot] ?? String(slot);
    for (const v of cells) row.insertCell().textContent = v === null || v === undefined ? '' : fmt(v);
  }
  details.append(summary, table);
  return details;
}

export function fmt(v) {
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 3 });
}
