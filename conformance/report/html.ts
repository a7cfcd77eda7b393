/**
 * The HTML report: one self-contained file (inline style and script, no external assets). A header
 * with the peer, the tool, the date and the totals; a table of cases with filters by outcome and
 * family; per case, behind a toggle, the rules with their one-line text, the findings (expected
 * against actual) and the exchanged messages, pretty-printed, escaped and collapsed.
 */
import { exitCodeOf, tally, type CaseResult, type Exchange, type Finding, type RunResult } from '../case.ts';
import { ruleText } from '../rules.ts';
import { OUTCOMES, escapeMarkup as esc, seconds } from './format.ts';
import { prettyXml } from './pretty-xml.ts';
import { noteOf } from './summary.ts';

/** Longest body shown in full; the rest is cut with a note (the JSON report keeps everything). */
const MAX_BODY_CHARS = 256 * 1024;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:16px 24px}
header h1{font-size:20px;margin:0 0 6px}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
header dt{color:#9aa4ae}
main{padding:16px 24px}
.totals{display:flex;gap:8px;flex-wrap:wrap;margin:0 0 12px}
.total{padding:6px 12px;border-radius:6px;background:#fff;border:1px solid #d0d7de}
.total b{font-size:18px;margin-right:4px}
.filters{display:flex;gap:16px;flex-wrap:wrap;margin:0 0 12px}
.filters fieldset{border:1px solid #d0d7de;border-radius:6px;background:#fff}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eaeef2}
button.toggle{font:inherit;border:0;background:none;cursor:pointer;color:#0969da;padding:0;text-align:left}
.o-passed{color:#1a7f37}.o-failed{color:#cf222e;font-weight:600}.o-skipped{color:#9a6700}.o-expected-fail{color:#0550ae}.o-unexpected-pass{color:#8250df;font-weight:600}
tr.detail>td{background:#f6f8fa;padding:8px 16px 16px}
.inner{max-width:calc(100vw - 96px);overflow-x:auto}
.finding{border-left:4px solid #cf222e;background:#fff;padding:6px 10px;margin:6px 0}
.finding dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0 0}
.finding dd{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,monospace}
.rules li{margin:2px 0}
pre{background:#fff;border:1px solid #d0d7de;padding:8px;overflow:auto;max-height:480px;font-size:12px}
details.msg{margin:4px 0}
.err{color:#cf222e}
`;

const SCRIPT = `
(function(){
  var rows=[].slice.call(document.querySelectorAll('tr.case'));
  var boxes=[].slice.call(document.querySelectorAll('.filters input'));
  function apply(){
    var on={};boxes.forEach(function(b){on[b.name+':'+b.value]=b.checked;});
    var shown=0;
    rows.forEach(function(r){
      var visible=on['outcome:'+r.dataset.outcome]&&on['family:'+r.dataset.family];
      r.hidden=!visible;if(visible)shown++;
      var d=document.getElementById(r.dataset.detail);
      if(d)d.hidden=!visible||r.dataset.open!=='1';
    });
    document.getElementById('shown').textContent=shown+' of '+rows.length+' cases shown';
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  rows.forEach(function(r){
    r.querySelector('button.toggle').addEventListener('click',function(){
      var open=r.dataset.open!=='1';
      r.dataset.open=open?'1':'0';
      this.setAttribute('aria-expanded',open?'true':'false');
      this.textContent=(open?'\u25be ':'\u25b8 ')+this.textContent.slice(2);
      apply();
    });
  });
  apply();
})();
`;

function findingHtml(f: Finding): string {
  const rules = f.ruleIds.map((id) => `<abbr title="${esc(ruleText(id))}">${esc(id)}</abbr>`).join(' + ');
  const rows: string[] = [];
  if (f.expected !== undefined) rows.push(`<dt>expected</dt><dd>${esc(f.expected)}</dd>`);
  if (f.actual !== undefined) rows.push(`<dt>actual</dt><dd>${esc(f.actual)}</dd>`);
  if (f.exchange !== undefined) rows.push(`<dt>message</dt><dd>#${f.exchange + 1}</dd>`);
  return `<div class="finding"><div>${rules}: ${esc(f.message)}</div><dl>${rows.join('')}</dl></div>`;
}

function exchangeTitle(e: Exchange, i: number): string {
  const arrow = e.direction === 'sent' ? 'suite → peer' : 'peer → suite';
  const iq = e.headers['iq-type'];
  const what = e.error !== undefined ? `error: ${e.error}` : e.method !== undefined ? `${e.method} ${e.url ?? ''}` : e.status !== undefined ? `HTTP ${e.status}` : iq !== undefined ? `IQ ${iq}${e.headers['condition'] === undefined ? '' : ` ${e.headers['condition']}`}` : e.channel;
  const root = /<(?:[\w-]+:)?(oadr\w+)[\s>/]/.exec(e.body.replace(/<(?:[\w-]+:)?oadr(?:Payload|SignedObject)\b[^>]*>/g, ''))?.[1];
  return `#${i + 1} ${new Date(e.at).toISOString().slice(11, 23)} ${arrow} ${what}${root === undefined ? '' : ` — ${root}`}${e.body === '' ? '' : ` (${Buffer.byteLength(e.body)} bytes)`}`;
}

function exchangeHtml(e: Exchange, i: number): string {
  const headers = Object.entries(e.headers).map(([k, v]) => `${k}: ${v}`).join('\n');
  let body = prettyXml(e.body);
  let cut = '';
  if (body.length > MAX_BODY_CHARS) {
    cut = `<p>… ${body.length - MAX_BODY_CHARS} more characters not shown (the JSON report has the whole message)</p>`;
    body = body.slice(0, MAX_BODY_CHARS);
  }
  const parts = [
    e.error === undefined ? '' : `<p class="err">${esc(e.error)}</p>`,
    headers === '' ? '' : `<pre class="headers">${esc(headers)}</pre>`,
    e.body === '' ? '<p>(no body)</p>' : `<pre class="body">${esc(body)}</pre>${cut}`,
  ];
  return `<details class="msg"><summary>${esc(exchangeTitle(e, i))}</summary>${parts.join('')}</details>`;
}

function caseHtml(c: CaseResult, n: number): string {
  const detailId = `case-${n}-detail`;
  const row = `<tr class="case" data-outcome="${c.outcome}" data-family="${esc(c.family)}" data-detail="${detailId}" data-open="0">`
    + `<td><button class="toggle" aria-expanded="false" aria-controls="${detailId}">▸ ${esc(c.id)}</button></td>`
    + `<td>${esc(c.title)}</td><td>${esc(c.family)}</td><td>${esc(c.transport)}</td><td>${esc(c.ruleIds.join(' + '))}</td>`
    + `<td class="o-${c.outcome}">${c.outcome}</td><td>${esc(noteOf(c))}</td><td>${seconds(c.durationMs)}</td></tr>`;
  const rules = `<ul class="rules">${c.ruleIds.map((id) => `<li><b>${esc(id)}</b> ${esc(ruleText(id))}</li>`).join('')}</ul>`;
  const reason = c.reason === undefined ? '' : `<p><b>${c.outcome === 'skipped' ? 'Skipped' : 'Reason'}:</b> ${esc(c.reason)}</p>`;
  const findings = c.findings.length === 0 ? '' : `<h4>Findings (${c.findings.length})</h4>${c.findings.map(findingHtml).join('')}`;
  const messages = `<h4>Messages (${c.exchanges.length})</h4>${c.exchanges.length === 0 ? '<p>none</p>' : c.exchanges.map(exchangeHtml).join('')}`;
  const detail = `<tr class="detail" id="${detailId}" hidden><td colspan="8"><div class="inner"><h4>Rules</h4>${rules}${reason}${findings}${messages}</div></td></tr>`;
  return row + detail;
}

export function renderHtml(run: RunResult): string {
  const t = tally(run);
  const families = [...new Set(run.cases.map((c) => c.family))];
  const date = new Date(run.startedAt).toISOString();
  const title = `OpenADR 2.0b conformance — ${run.side.toUpperCase()} ${run.peer}`;
  const totals = OUTCOMES.map((o) => `<div class="total o-${o}" data-outcome="${o}"><b>${t[o]}</b>${o}</div>`).join('');
  const checkbox = (name: string, value: string, label: string): string => `<label><input type="checkbox" name="${name}" value="${esc(value)}" checked> ${esc(label)}</label> `;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<header><h1>${esc(title)}</h1><dl>
<dt>peer</dt><dd>${esc(run.peer)} (${run.side.toUpperCase()}, ${esc(run.transport)})</dd>
<dt>tool</dt><dd>${esc(run.tool)}</dd>
<dt>date</dt><dd>${esc(date)}, ${seconds(run.finishedAt - run.startedAt)}</dd>
<dt>result</dt><dd id="verdict">${run.cases.length} cases, exit code ${exitCodeOf(run)}</dd>
</dl></header>
<main>
<div class="totals">${totals}</div>
<div class="filters">
<fieldset><legend>Outcome</legend>${OUTCOMES.map((o) => checkbox('outcome', o, o)).join('')}</fieldset>
<fieldset><legend>Family</legend>${families.map((f) => checkbox('family', f, f)).join('')}</fieldset>
</div>
<p id="shown"></p>
<table><thead><tr><th>case</th><th>title</th><th>family</th><th>transport</th><th>rules</th><th>outcome</th><th>first finding / reason</th><th>time</th></tr></thead>
<tbody>${run.cases.map(caseHtml).join('\n')}</tbody></table>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
