// A straightforward plain-JS scraper doing the same extraction as crmsync's (key, direction,
// timestamp and sender, text with emoji, quote, kind, media, flags, reactions), the way a
// typical extension would write it: DOM queries per row. The benchmark baseline.
(() => {
  const q = (el, s) => el.querySelector(s);
  const txt = (el) => {
    if (!el) return '';
    let out = '';
    const walk = (n) => {
      for (const c of n.childNodes) {
        if (c.nodeType === 3) out += c.data;
        else if (c.nodeType === 1) {
          if (c.dataset && c.dataset.plainText) out += c.dataset.plainText;
          else if (c.tagName === 'IMG') out += c.alt || '';
          else walk(c);
        }
      }
    };
    walk(el);
    return out;
  };
  const PRE = /^\[(\d{1,2}):(\d{2})(?:\s*([ap])\.?\s*m\.?)?,\s*(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})\]\s*(.*?):\s*$/i;
  function parsePre(s, monthFirst) {
    const m = PRE.exec(s.replace(/[\u202f\u00a0]/g, ' '));
    if (!m) return null;
    let [, h, mi, ap, a, b, y] = m;
    h = +h; if (ap) { if (ap.toLowerCase() === 'p' && h < 12) h += 12; if (ap.toLowerCase() === 'a' && h === 12) h = 0; }
    let d = +a, mo = +b;
    if (a.length === 4) { y = a; mo = +b; d = +m[6]; } else if (monthFirst ? +a <= 12 && +b <= 31 : +a > 12) { if (monthFirst) { mo = +a; d = +b; } }
    return { time: { year: +y, month: mo, day: d, hour: h, minute: +mi }, sender: m[7] };
  }
  function scrapeRow(row, ctx) {
    const idEl = row.matches('[data-id]') ? row : q(row, '[data-id]');
    if (!idEl) return null;
    const key = idEl.getAttribute('data-id');
    const out = !!q(row, '.message-out'); const inn = !!q(row, '.message-in');
    if (!out && !inn) return null;
    const preEl = q(row, '[data-pre-plain-text]');
    const pre = preEl ? parsePre(preEl.getAttribute('data-pre-plain-text'), ctx.monthFirst) : null;
    const quotedEl = q(row, '[data-testid="quoted-message"], [aria-label="Quoted message" i]');
    let bodyEl = null;
    for (const c of row.querySelectorAll('[data-testid="selectable-text"], .selectable-text')) { if (!quotedEl || !quotedEl.contains(c)) { bodyEl = c; break; } }
    let kind = 'text';
    if (q(row, '[data-testid="recalled-msg"], [data-icon="recalled"]')) kind = 'deleted';
    else if (q(row, '[data-testid="sticker"]')) kind = 'sticker';
    else if (q(row, '[data-icon="media-gif"]')) kind = 'gif';
    else if (q(row, '[data-icon="audio-play"]')) kind = 'voice';
    else if (q(row, '[data-testid="document-thumb"]')) kind = 'document';
    else if (q(row, '[data-testid="location-thumb"]')) kind = 'location';
    else if (q(row, '[data-testid="vcard-msg"]')) kind = 'contact_card';
    else if (q(row, '[data-testid="video-thumb"]')) kind = 'video';
    else if (q(row, '[data-testid="image-thumb"], img[src^="blob:"]')) kind = 'image';
    const reactions = [...row.querySelectorAll('[aria-label^="Reactions " i], [aria-label^="reaction " i]')].map((r) => r.getAttribute('aria-label').split(' ')[1]);
    return {
      key, chat: ctx.chat, direction: out ? 'out' : 'in',
      sender: { name: pre ? pre.sender : (out ? 'You' : ''), phone: null }, time: pre ? pre.time : null,
      text: txt(bodyEl), quoted: quotedEl ? { sender: txt(q(quotedEl, '[data-testid="author"]')) || null, text: txt(q(quotedEl, '.quoted-mention')) } : null,
      kind, forwarded: !!q(row, '[data-icon*="forward"]'), edited: !!q(row, '[data-icon*="edited"]'), reactions,
    };
  }
  window.jsReferenceScrape = (rows, ctx) => rows.map((r) => scrapeRow(r, ctx)).filter(Boolean);
})();
