// The store package: dist/crmsync-<version>.zip is what the Chrome Web Store accepts. The store
// refuses a manifest with a "key" ("key field is not allowed in manifest": it assigns the id),
// so the zip's manifest has none, while extension/manifest.json keeps it for unpacked
// development loads (a fixed id, so the sign-in redirect stays registered). The zip carries the
// distribution config build.sh built in, and that config names the redirect's extension id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, VERSION } from './harness.mjs';

const zip = join(ROOT, `dist/crmsync-${VERSION}.zip`);
// Python's zipfile (build.sh already needs python3): one member's text.
const member = (name) => execFileSync('python3', ['-c', 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())', zip, name], { encoding: 'utf8' });
const names = () => execFileSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', zip], { encoding: 'utf8' }).trim().split('\n');

test('the store zip\'s manifest has no key; the unpacked manifest keeps it; otherwise they are the same', () => {
  const unpacked = JSON.parse(readFileSync(join(ROOT, 'extension/manifest.json'), 'utf8'));
  const packed = JSON.parse(member('manifest.json'));
  assert.ok(unpacked.key, 'development loads keep their fixed id');
  assert.equal('key' in packed, false, 'the store rejects a manifest with a key');
  const { key, ...rest } = unpacked;
  assert.deepEqual(packed, rest);
});

test('the zip holds the built extension and its distribution config', () => {
  const list = names();
  for (const f of ['manifest.json', 'sw.js', 'pkg/crmsync_bg.wasm', 'pkg/crmsync.js', 'options.html', 'distribution.json']) assert.ok(list.includes(f), f);
  const d = JSON.parse(member('distribution.json'));
  assert.deepEqual(d, JSON.parse(readFileSync(join(ROOT, 'extension/distribution.json'), 'utf8')));
  for (const id of d.extension_ids || []) assert.match(id, /^[a-p]{32}$/);
});
