// Minimum permissions: the manifest asks for exactly the permissions README.md documents,
// and every one of them is used by the code (an unused permission is a cost to users and
// a reason for the store to reject the extension).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const manifest = JSON.parse(readFileSync(join(ROOT, 'extension/manifest.json'), 'utf8'));

/** The README's permission table: API permissions and host patterns. */
function documented() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## Permissions$/m)[1]?.split(/^## /m)[0];
  assert.ok(section, 'README.md has a "## Permissions" section');
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| permission') && !l.startsWith('|---'));
  const api = [];
  const hosts = [];
  for (const row of rows) {
    const first = row.split('|')[1].trim();
    const names = [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    if (first.startsWith('host ')) hosts.push(...names);
    else if (!first.startsWith('content script')) api.push(...names);
  }
  return { api, hosts };
}

/** Code only: Rust and JS sources with their comments removed. */
function code() {
  const files = [
    ...readdirSync(join(ROOT, 'src/web')).filter((f) => f.endsWith('.rs')).map((f) => join(ROOT, 'src/web', f)),
    ...readdirSync(join(ROOT, 'src/crm')).filter((f) => f.endsWith('.rs')).map((f) => join(ROOT, 'src/crm', f)),
    ...readdirSync(join(ROOT, 'extension')).filter((f) => f.endsWith('.js')).map((f) => join(ROOT, 'extension', f)),
  ];
  return files.map((f) => readFileSync(f, 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)).map((l) => l.replace(/\s\/\/\s.*$/, '')).join('\n')).join('\n');
}

const glob = (pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
const hostOf = (matchPattern) => /^https:\/\/([^/]+)\/\*$/.exec(matchPattern)?.[1];

test('the manifest asks for exactly the documented permissions', () => {
  const doc = documented();
  assert.deepEqual([...manifest.permissions].sort(), [...doc.api].sort(), 'permissions differ from README.md');
  assert.equal(manifest.optional_permissions, undefined);
  for (const p of manifest.host_permissions) {
    const host = hostOf(p);
    assert.ok(host, `${p} is an https host pattern`);
    assert.ok(doc.hosts.some((d) => glob(d).test(host)), `${p} is not documented in README.md`);
  }
  for (const d of doc.hosts) {
    assert.ok(manifest.host_permissions.some((p) => glob(d).test(hostOf(p))), `README.md documents ${d}, the manifest does not ask for it`);
  }
  // The content script is the only way into WhatsApp: it is not a host permission.
  assert.ok(!manifest.host_permissions.some((p) => p.includes('whatsapp')));
  assert.deepEqual(manifest.content_scripts.map((c) => c.matches).flat(), ['https://web.whatsapp.com/*']);
});

test('every permission is used by the code', () => {
  const src = code();
  for (const p of manifest.permissions) {
    // wasm-bindgen imports name the namespace (`js_namespace = ["chrome", "alarms"]`); JS calls it.
    const used = src.includes(`"chrome", "${p}"`) || new RegExp(`chrome\\.${p}\\.`).test(src);
    assert.ok(used, `permission "${p}" is never used: remove it from the manifest and README.md`);
  }
  for (const p of manifest.host_permissions) {
    // A host pattern is used when some connector builds URLs under it.
    const suffix = hostOf(p).replace(/^\*\./, '');
    assert.ok(src.includes(suffix), `host permission ${p}: no connector code uses ${suffix}`);
  }
});

test('the check catches an undocumented and an unused permission', () => {
  const doc = documented();
  const extra = [...manifest.permissions, 'history'].sort();
  assert.notDeepEqual(extra, [...doc.api].sort());
  assert.ok(!code().includes('"chrome", "history"') && !/chrome\.history\./.test(code()), 'history would be flagged as unused');
});
