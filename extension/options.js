// Thin loader: the page is rendered by Rust.
import init, { options_main } from './pkg/crmsync.js';

init({ module_or_path: 'pkg/crmsync_bg.wasm' })
  .then(() => options_main())
  .catch((e) => { document.getElementById('app').textContent = 'crmsync could not start: ' + e; });
