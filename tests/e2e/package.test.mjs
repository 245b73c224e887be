// The store package: dist/crmsync-<version>.zip is what the Chrome Web Store accepts. The store
// refuses a manifest with a "key" ("key field is not allowed in manifest": it assigns the id),
// so the zip's manifest has none, while extension/manifest.json keeps it for unpacked
// development loads (a fixed id, so the sign-in redirect stays registered). The zip carries the
// distribution config build.sh built in, and that config names the redirect's extension id.
// A build with the sandbox's config (the tests', the demo's, or a plain ./build.sh without a
// config, which says so in a warning) is a development build: dist/crmsync-<version>-sandbox.zip,
// never the store zip's name, so the sandbox's clients cannot reach the store by accident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, VERSION } from './harness.mjs';

const builtConfig = JSON.parse(readFileSync(join(ROOT, 'extension/distribution.json'), 'utf8'));
const zipOf = (root, sandbox) => join(root, `dist/crmsync-${VERSION}${sandbox ? '-sandbox' : ''}.zip`);
const zip = zipOf(ROOT, builtConfig.name === 'sandbox');
// Python's zipfile (build.sh already needs python3): one member's text.
const member = (name, file = zip) => execFileSync('python3', ['-c', 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())', file, name], { encoding: 'utf8' });
const names = () => execFileSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', zip], { encoding: 'utf8' }).trim().split('\n');

test('the zip\'s manifest has no key; the unpacked manifest keeps it; otherwise they are the same', () => {
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
  assert.deepEqual(d, builtConfig);
  for (const id of d.extension_ids || []) assert.match(id, /^[a-p]{32}$/);
});

// `./build.sh package` (the zip step of ./build.sh, without the wasm build) in a copy of the
// files it reads, so the checkout's extension/ and dist/ stay as the suite built them.
function packageIn(env) {
  const dir = mkdtempSync(join(tmpdir(), 'crmsync-package-'));
  for (const f of ['build.sh', 'Cargo.toml', 'extension', 'tests/crm-sandbox/distribution.json']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  }
  const { CRMSYNC_DISTRIBUTION, ...base } = process.env;
  const r = spawnSync('bash', [join(dir, 'build.sh'), 'package'], { encoding: 'utf8', env: { ...base, ...env } });
  const out = { dir, status: r.status, stdout: r.stdout, stderr: r.stderr, zips: existsSync(join(dir, 'dist')) ? readdirSync(join(dir, 'dist')).sort() : [] };
  return out;
}

test('a plain build without a distribution config warns, names the sandbox fallback and writes no store zip', () => {
  const r = packageIn({});
  try {
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /WARNING: no CRMSYNC_DISTRIBUTION and no distribution\.json/);
    assert.match(r.stderr, /tests\/crm-sandbox\/distribution\.json/);
    assert.match(r.stderr, /development build/);
    assert.deepEqual(r.zips, [`crmsync-${VERSION}-sandbox.zip`], 'only the development zip, never the store zip\'s name');
    assert.equal(JSON.parse(member('distribution.json', zipOf(r.dir, true))).name, 'sandbox');
  } finally { rmSync(r.dir, { recursive: true, force: true }); }
});

test('the product\'s config makes the store zip; the sandbox\'s named explicitly (test, demo, bench) makes the development zip without a warning', () => {
  const cfgDir = mkdtempSync(join(tmpdir(), 'crmsync-config-'));
  const store = { name: 'store', extension_ids: ['abcdefghijklmnopabcdefghijklmnop'], zoho: { client_id: '1000.STORECLIENT', client_type: 'mobile' }, salesforce: { consumer_key: 'store-key' } };
  writeFileSync(join(cfgDir, 'store.json'), JSON.stringify(store));
  const product = packageIn({ CRMSYNC_DISTRIBUTION: join(cfgDir, 'store.json') });
  const sandbox = packageIn({ CRMSYNC_DISTRIBUTION: 'tests/crm-sandbox/distribution.json' });
  try {
    assert.equal(product.status, 0, product.stderr);
    assert.doesNotMatch(product.stderr, /WARNING/);
    assert.deepEqual(product.zips, [`crmsync-${VERSION}.zip`]);
    assert.deepEqual(JSON.parse(member('distribution.json', zipOf(product.dir, false))), store);
    assert.match(product.stdout, /https:\/\/abcdefghijklmnopabcdefghijklmnop\.chromiumapp\.org\//, 'the redirect to register');
    assert.equal(sandbox.status, 0, sandbox.stderr);
    assert.doesNotMatch(sandbox.stderr, /WARNING/);
    assert.deepEqual(sandbox.zips, [`crmsync-${VERSION}-sandbox.zip`]);
  } finally {
    for (const d of [cfgDir, product.dir, sandbox.dir]) rmSync(d, { recursive: true, force: true });
  }
});
