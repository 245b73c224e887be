// Thin loader: the page is rendered by Rust.
import init, { popup_main } from './pkg/crmsync.js';

// Until Rust renders the page, in the rep's language (extension pages get no __MSG_ in HTML).
document.getElementById('app').textContent = chrome.i18n.getMessage('loading');

init({ module_or_path: 'pkg/crmsync_bg.wasm' })
  .then(() => popup_main())
  .catch((e) => { document.getElementById('app').textContent = chrome.i18n.getMessage('startFailed', [String(e)]) || String(e); });
