// Thin loader: the page is rendered by Rust.
import init, { panel_main } from './pkg/crmsync.js';

const blocked = new URLSearchParams(location.hash.slice(1)).get('blocked');
init({ module_or_path: 'pkg/crmsync_bg.wasm' })
  .then(() => panel_main(blocked ?? undefined))
  .catch((e) => { document.getElementById('app').textContent = 'crmsync could not start: ' + e; });
