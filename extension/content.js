// Thin loader: all logic lives in Rust (pkg/content/crmsync.js, the content script's own
// module: capture, its parser and timestamps only). Content scripts cannot be modules, so
// the glue is imported dynamically. If the page's CSP blocks WebAssembly,
// show the panel anyway and relay the chat's HTML to it: the panel frame (extension
// origin) runs the same Rust scraper. Only this extension's pages receive runtime messages.
// The frame is bound to this tab by a nonce registered with the worker and posted to that
// frame only (the page never sees it), as the wasm content script does.
(async () => {
  const url = (p) => chrome.runtime.getURL(p);
  try {
    const core = await import(url('pkg/content/crmsync.js'));
    await core.default({ module_or_path: url('pkg/content/crmsync_bg.wasm') });
    core.content_main();
  } catch (e) {
    const reason = String((e && e.message) || e);
    globalThis.__crmsync = { wasm: false, error: reason, relayed: 0 };
    chrome.runtime.sendMessage({ kind: 'content_error', stage: 'wasm', error: reason }).catch(() => {});
    if (!document.getElementById('crmsync-panel')) {
      const nonce = crypto.randomUUID();
      const registered = chrome.runtime.sendMessage({ kind: 'panel_register', nonce, blocked: reason.slice(0, 2000) });
      const f = document.createElement('iframe');
      f.id = 'crmsync-panel';
      f.title = 'crmsync';
      f.src = url('panel.html');
      const origin = url('').replace(/\/$/, '');
      addEventListener('message', (ev) => {
        if (ev.source !== f.contentWindow || ev.origin !== origin) return;
        if (ev.data?.crmsync === 'bound') relay();
        if (ev.data?.crmsync !== 'hello') return;
        registered.then(() => f.contentWindow.postMessage({ crmsync: 'nonce', nonce }, origin), () => {});
      });
      f.style.cssText = 'position:fixed;top:0;right:0;width:320px;height:100vh;border:0;z-index:1000';
      // Relays sent before the frame listens are lost: send the current state once it loads.
      f.addEventListener('load', () => setTimeout(relay, 0));
      document.body.appendChild(f);
    }
    var timer = 0;
    function relay() {
      timer = 0;
      const q = (s) => document.querySelector(s);
      const list = q('[data-scrolltracepolicy="wa.web.conversation.messages"]') || q('#main');
      chrome.runtime.sendMessage({ kind: 'relay', header: q('#main header')?.outerHTML || '', rows: list?.outerHTML || '',
        locale: document.documentElement.lang || navigator.language }).then(() => { globalThis.__crmsync.relayed++; }, () => {});
    }
    new MutationObserver(() => { timer ||= setTimeout(relay, 150); }).observe(document.body, { childList: true, subtree: true, characterData: true });
    relay();
  }
})();
