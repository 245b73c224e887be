#!/usr/bin/env bash
# crmsync build entry point: build | package | check | test | demo [--headless] | bench | fuzz [SECONDS]
# Installs what it needs (idempotently), so a fresh checkout needs only this script.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
WASM_BINDGEN_VERSION=0.2.130
TOOLS="$ROOT/.tools"
export PATH="$TOOLS/bin:$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log() { printf '\n== %s\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_rust() {
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "installing the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$("$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION into .tools (a few minutes, once)"
    # No --locked: the CLI's own lockfile pins a crate version the registry mirror lacks.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$TOOLS"
  fi
}

ensure_npm() {
  command -v npm >/dev/null || die "npm not found"
  # Reinstall only when package-lock.json changed since the last install.
  local stamp="node_modules/.crmsync-lock"
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    log "installing npm packages (playwright-core, binaryen, google-libphonenumber)"
    npm ci --no-audit --no-fund
    cp package-lock.json "$stamp"
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    log "installing Debian's chromium and chromium-driver"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  export CHROMEDRIVER=/usr/bin/chromedriver
  export CRMSYNC_CHROMIUM=/usr/bin/chromium
}

# libfaketime (Debian's faketime) runs the e2e suite a second time with the clock moved
# ahead, so nothing in it can depend on the calendar date it runs on.
ensure_faketime() {
  if ! command -v faketime >/dev/null; then
    log "installing Debian's faketime"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
  fi
}

ensure_lint_tools() {
  ensure_rust
  for c in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
      log "installing the $c component"
      rustup component add "$c"
    fi
  done
}

# Formatting and lints, native and wasm32 (the shell in src/web compiles only there).
check() {
  ensure_lint_tools
  cargo fmt --all --check &&
    cargo fmt --manifest-path fuzz/Cargo.toml --check &&
    cargo clippy --workspace --all-targets -- -D warnings &&
    cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings &&
    cargo clippy --target wasm32-unknown-unknown --lib --features content-module -- -D warnings &&
    cargo clippy --target wasm32-unknown-unknown --lib --tests --features bench -- -D warnings &&
    # The fuzz targets are built by cargo-fuzz on nightly, never by the suite: compiled here so
    # that they follow the code they call (three of them had stopped compiling unnoticed).
    cargo check --manifest-path fuzz/Cargo.toml --locked --bins
}

version() { sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1; }

# The optimised module with FEATURES into OUT (wasm-bindgen glue + wasm-opt), with any
# further wasm-opt flags after them.
wasm_pkg() {
  local features=$1 out=$2
  shift 2
  cargo build --lib --release --target wasm32-unknown-unknown ${features:+--features "$features"}
  local raw=target/wasm32-unknown-unknown/release/crmsync.wasm
  rm -rf "$out" && mkdir -p "$out"
  wasm-bindgen --target web --no-typescript --out-dir "$out" "$raw"
  wasm-opt -Os --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue "$@" \
    "$out/crmsync_bg.wasm" -o "$out/crmsync_bg.wasm"
}

# The content script's module: wasm-opt inlines no function of over 100 units into its one
# caller (by default it inlines every such function, whatever its size). A scan loop with large
# functions inlined used up V8's tier-up budget within a few rows and set off an optimizing
# compile of tens of milliseconds that shares the machine with WhatsApp's main thread while the
# first scan runs. Measured with one run of 20 fresh pages each, alternated (BENCHMARKS.md):
# cold start 63.1 -> 59.1 ms median, and 5 KB less gzip.
CONTENT_OPT="--one-caller-inline-max-function-size=100"

# The distribution config: the product's registered OAuth clients, built into the extension
# as extension/distribution.json. CRMSYNC_DISTRIBUTION names the file; without it
# distribution.json at the root; without that the sandbox's, with a warning: those are the
# sandbox's test clients, never the product's, so the build is marked a development build.
SANDBOX_DISTRIBUTION=tests/crm-sandbox/distribution.json
DIST_IS_SANDBOX=0
distribution() {
  local src=${CRMSYNC_DISTRIBUTION:-}
  if [ -z "$src" ]; then
    if [ -f distribution.json ]; then
      src=distribution.json
    else
      src=$SANDBOX_DISTRIBUTION
      printf '\nbuild.sh: WARNING: no CRMSYNC_DISTRIBUTION and no distribution.json, so this build falls\n' >&2
      printf 'build.sh: WARNING: back to the sandbox'"'"'s OAuth clients (%s).\n' "$src" >&2
      printf 'build.sh: WARNING: It is a development build, written as dist/crmsync-%s-sandbox.zip; the store\n' "$(version)" >&2
      printf 'build.sh: WARNING: zip needs the product'"'"'s config (README: Distribution config).\n\n' >&2
    fi
  fi
  [ -f "$src" ] || die "distribution config $src not found"
  python3 - "$src" <<'PY' || die "distribution config $src is not valid JSON"
import json, sys
d = json.load(open(sys.argv[1]))
ids = d.get("extension_ids") or []
print("distribution config %s (%s): sign-in redirect%s to register with Zoho and Salesforce: %s" % (
    sys.argv[1], d.get("name", "?"), "s" if len(ids) != 1 else "",
    ", ".join("https://%s.chromiumapp.org/" % i for i in ids) or "(no extension id given)"))
PY
  # The sandbox's config, named or fallen back to, or any copy of it: its clients exist only
  # in the sandbox, so a zip carrying them must never pass for the store zip.
  if cmp -s "$src" "$SANDBOX_DISTRIBUTION" ||
    [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("name", ""))' "$src")" = sandbox ]; then
    DIST_IS_SANDBOX=1
  else
    DIST_IS_SANDBOX=0
  fi
  cp "$src" extension/distribution.json
}

# The zip of extension/ with the distribution config: dist/crmsync-<version>.zip (the store
# zip) for the product's config, dist/crmsync-<version>-sandbox.zip for the sandbox's.
package() {
  distribution
  mkdir -p dist
  local zip="dist/crmsync-$(version).zip"
  if [ "$DIST_IS_SANDBOX" = 1 ]; then zip="dist/crmsync-$(version)-sandbox.zip"; fi
  rm -f "$zip"
  # The store zip: the Chrome Web Store refuses a manifest with a "key" (it assigns the id);
  # extension/manifest.json keeps it so unpacked development loads keep their fixed id.
  python3 - "$zip" <<'PY'
import json, os, sys, zipfile
out = sys.argv[1]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for base, _, files in os.walk("extension"):
        for f in sorted(files):
            p = os.path.join(base, f)
            name = os.path.relpath(p, "extension")
            if name == "manifest.json":
                m = json.load(open(p))
                m.pop("key", None)
                z.writestr(name, json.dumps(m, indent=2, ensure_ascii=False) + "\n")
            else:
                z.write(p, name)
PY
  PACKAGE_ZIP=$zip
}

build() {
  ensure_rust
  ensure_npm
  log "building the wasm (release): the extension's module, and the content script's own"
  wasm_pkg "" extension/pkg
  # Inside extension/pkg (generated, like the module beside it): built after it, since
  # building that one clears the folder.
  wasm_pkg content-module extension/pkg/content $CONTENT_OPT
  package
  echo
  local pkg
  for pkg in pkg pkg/content; do
    local wasm=extension/$pkg/crmsync_bg.wasm glue=extension/$pkg/crmsync.js
    printf '%s: wasm %s bytes raw, %s bytes gzip | glue %s bytes raw, %s bytes gzip\n' "$pkg" \
      "$(stat -c %s $wasm)" "$(gzip -9c $wasm | wc -c)" "$(stat -c %s $glue)" "$(gzip -9c $glue | wc -c)"
  done
  echo "$PACKAGE_ZIP"
  if [ "$DIST_IS_SANDBOX" = 1 ]; then
    echo "(a development build with the sandbox's sign-in clients: not for the Chrome Web Store)"
  fi
}

RESULTS=()
stage() { # stage NAME CMD...: run, record pass/fail, keep going
  local name=$1; shift
  log "$name"
  local t0=$SECONDS
  if "$@"; then RESULTS+=("PASS  $name ($((SECONDS - t0))s)"); else RESULTS+=("FAIL  $name ($((SECONDS - t0))s)"); fi
}

summary() {
  printf '\n== summary\n'; printf '%s\n' "${RESULTS[@]}"
  if printf '%s\n' "${RESULTS[@]}" | grep -q '^FAIL'; then return 1; fi
}

wasm_tests() {
  WASM_BINDGEN_TEST_TIMEOUT=120 WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/webdriver.json" \
    cargo test --target wasm32-unknown-unknown --features bench --test web
}

e2e() {
  cargo build -p crm-sandbox
  CRMSYNC_SANDBOX_BIN="$ROOT/target/debug/crm-sandbox" node --test --test-concurrency=1 tests/e2e/
}

# The same suite with every process's clock (node, the sandbox, Chromium) DAYS ahead.
e2e_shifted() {
  local days=$1
  cargo build -p crm-sandbox
  CRMSYNC_SANDBOX_BIN="$ROOT/target/debug/crm-sandbox" faketime -f "+${days}d" \
    node -e 'console.log("clock for this stage: " + new Date().toString())'
  CRMSYNC_SANDBOX_BIN="$ROOT/target/debug/crm-sandbox" faketime -f "+${days}d" \
    node --test --test-concurrency=1 tests/e2e/
}

# Is there a display for the interactive demo's browser window?
has_display() { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }

# The reliability soak (SOAK_SEED / SOAK_SCHEDULES, see the file) runs after the e2e suite:
# run before tests/e2e/sync.test.mjs it left that file's first test without a LeadSquared match.
soak() {
  CRMSYNC_SANDBOX_BIN="$ROOT/target/debug/crm-sandbox" node --test tests/soak/
}

cmd=${1:-build}
shift || true
case "$cmd" in
  build)
    build
    ;;
  check)
    check
    ;;
  package)
    # extension/ as built before, zipped again with the distribution config (no wasm build).
    [ -f extension/pkg/crmsync_bg.wasm ] || die "no extension/pkg: run ./build.sh first"
    package
    echo "$PACKAGE_ZIP"
    ;;
  test)
    stage "check: cargo fmt --check, clippy -D warnings (native and wasm32)" check
    # Tests run against the sandbox's own registered clients, through the same path.
    export CRMSYNC_DISTRIBUTION=${CRMSYNC_DISTRIBUTION:-tests/crm-sandbox/distribution.json}
    build
    ensure_chromium
    stage "native tests (cargo test --workspace)" cargo test --workspace
    stage "wasm tests in headless Chromium (wasm-bindgen-test)" wasm_tests
    stage "e2e: the extension in headless Chromium" e2e
    stage "e2e: reliability soak (200 fault schedules + worker kills)" soak
    ensure_faketime
    stage "e2e again with the clock 400 days ahead (faketime)" e2e_shifted 400
    summary
    ;;
  demo)
    export CRMSYNC_DISTRIBUTION=${CRMSYNC_DISTRIBUTION:-tests/crm-sandbox/distribution.json}
    build
    ensure_chromium
    cargo build -p crm-sandbox
    demo_cmd=(node tests/e2e/demo.mjs "$@")
    if [[ " $* " != *" --headless "* ]] && ! has_display; then
      # Nobody could see a browser window: the scripted tour shows the same in screenshots.
      echo "build.sh: no display (DISPLAY is not set), so running the headless tour instead (./build.sh demo --headless)"
      demo_cmd+=(--headless)
    fi
    CRMSYNC_SANDBOX_BIN="$ROOT/target/debug/crm-sandbox" "${demo_cmd[@]}"
    ;;
  bench)
    export CRMSYNC_DISTRIBUTION=${CRMSYNC_DISTRIBUTION:-tests/crm-sandbox/distribution.json}
    build
    ensure_chromium
    # The benchmark's entry points (scan and phone batches) exist only in this build.
    log "building the benchmark's wasm (release, --features bench)"
    wasm_pkg bench target/bench/pkg
    wasm_pkg bench,content-module target/bench/pkg-content $CONTENT_OPT
    cargo build --release --bin crmsync
    cargo build -p crm-sandbox
    CRMSYNC_SANDBOX_BIN="$ROOT/target/debug/crm-sandbox" node tests/bench/run.mjs
    ;;
  fuzz)
    # Every fuzz target for SECONDS each (default 30). Stable Rust: no sanitizer, libFuzzer
    # still finds panics, overflows (-a: debug assertions and overflow checks) and hangs.
    secs=${1:-30}
    ensure_rust
    if ! [ -x "$TOOLS/bin/cargo-fuzz" ]; then
      log "installing cargo-fuzz into .tools"
      cargo install cargo-fuzz --version 0.13.1 --root "$TOOLS"
    fi
    for t in $(cargo fuzz list --fuzz-dir fuzz); do
      stage "fuzz $t (${secs}s)" cargo fuzz run --fuzz-dir fuzz --sanitizer none -a "$t" -- -max_total_time="$secs"
    done
    summary
    ;;
  *)
    die "unknown command '$cmd' (build | package | check | test | demo [--headless] | bench | fuzz [SECONDS])"
    ;;
esac
