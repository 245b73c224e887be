// The fake WhatsApp Web uses only the attributes (and data-testid values) that www/README.md
// lists with their evidence from the real page: a scraper must not pass here by reading markup
// the real page lacks. Static: reads the files, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const WWW = join(dirname(fileURLToPath(import.meta.url)), '../../www');
const files = ['index.html', 'wa.js', 'wa.css', ...readdirSync(join(WWW, 'fixtures')).map((f) => `fixtures/${f}`)];

// Attribute names written in markup (`name="…"`, `name=\"…\"`, `name='…'`, `name=${…}`) or
// set from script (`setAttribute('name'`, `dataset.name`, `[name=` / `[name]` in selectors the
// fake renders with), and data-testid values.
function used(src) {
  const attrs = new Set();
  const testids = new Set();
  for (const m of src.matchAll(/(?<=[\s<])([a-zA-Z][\w:-]*)=(?:\\?"|'|\$\{)/g)) attrs.add(m[1].toLowerCase());
  for (const m of src.matchAll(/setAttribute\(\s*'([\w:-]+)'/g)) attrs.add(m[1].toLowerCase());
  for (const m of src.matchAll(/\.dataset\.(\w+)/g)) attrs.add(`data-${m[1].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  for (const m of src.matchAll(/data-testid=\\?"([^"\\$]+)\\?"/g)) testids.add(m[1]);
  const values = (name) => new Set([...src.matchAll(new RegExp(`(?<=[\\s<])${name}=\\\\?"([^"\\\\$]*)\\\\?"`, 'g'))].map((m) => m[1]));
  return { attrs, testids, ids: values('id'), roles: values('role') };
}

// The README names the only ids and roles the real page is shown to have.
const IDS = new Set(['app', 'pane-side', 'main']);
const ROLES = new Set(['row', 'button', '', 'slider', 'grid', 'listitem']);

// The README's two tables: `attribute | where | evidence` and `data-testid | where | evidence`;
// every backticked name in a row's first cell is allowed.
function allowed() {
  const attrs = new Set();
  const testids = new Set();
  let into = null;
  for (const line of readFileSync(join(WWW, 'README.md'), 'utf8').split('\n')) {
    if (line.startsWith('| attribute | where in the fake |')) into = attrs;
    else if (line.startsWith('| `data-testid` | where in the fake |')) into = testids;
    else if (!line.startsWith('|')) into = null;
    else if (into && line.startsWith('| `')) for (const m of line.split('|')[1].matchAll(/`([^`]+)`/g)) into.add(m[1]);
  }
  return { attrs, testids };
}

test('the fake WhatsApp Web uses only attributes documented as seen on the real page', () => {
  const ok = allowed();
  assert.ok(ok.attrs.size > 10 && ok.testids.size > 5, 'README tables parsed');
  const bad = [];
  for (const f of files) {
    const { attrs, testids, ids, roles } = used(readFileSync(join(WWW, f), 'utf8'));
    for (const i of ids) if (!IDS.has(i)) bad.push(`${f}: id ${i}`);
    for (const r of roles) if (!ROLES.has(r)) bad.push(`${f}: role ${r}`);
    for (const a of attrs) if (!ok.attrs.has(a)) bad.push(`${f}: attribute ${a}`);
    for (const t of testids) if (!ok.testids.has(t)) bad.push(`${f}: data-testid ${t}`);
  }
  assert.deepEqual(bad, []);
});

test('the scan sees what it must: an invented attribute or test id is caught', () => {
  const { attrs, testids, ids, roles } = used('<div role="row" data-chat="ana" aria-selected="false"><div data-testid="cell-frame-primary-detail" id="messages" role="application"></div></div>`<b x-y=${1}>` r.dataset.fooBar');
  for (const a of ['data-chat', 'aria-selected', 'x-y', 'data-foo-bar']) assert.ok(attrs.has(a), a);
  assert.ok(testids.has('cell-frame-primary-detail'));
  assert.deepEqual([[...ids], [...roles]], [['messages'], ['row', 'application']]);
  const ok = allowed();
  assert.ok(!ok.attrs.has('data-chat') && !ok.attrs.has('aria-selected') && !ok.testids.has('cell-frame-primary-detail'));
});
