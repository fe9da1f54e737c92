// attnplay page shell (index.html and embed.html): mounts the app (attnplay.mjs) on the whole page, exposes it as
// window.attnplay (../shared/SPEC.md §6), keeps index.html's address bar equal to the share link, and in
// embed.html answers the parent page's messages (and saves the workspace to IndexedDB: index.html always, an embed
// with autosave=1; attnplay.mjs, startAutosave):
//   {type: "attnplay:setConfig", config}  -> {type: "attnplay:result", result} | {type: "attnplay:error", message}
//   {type: "attnplay:highlight", query, key}
// Any other message is ignored with a console warning. Message data only ever becomes config JSON or integers.
import { mount } from './attnplay.mjs';

const embedded = document.body.classList.contains('embed');

function bridge(api) {
  window.addEventListener('message', (event) => {
    const msg = event.data;
    const reply = (data) => { if (event.source) event.source.postMessage(data, event.origin && event.origin !== 'null' ? event.origin : '*'); };
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') {
      console.warn('attnplay: ignored a message that is not {type: "attnplay:...", ...}');
      return;
    }
    if (msg.type === 'attnplay:setConfig') {
      api.setConfig(msg.config).then((r) => reply({ type: 'attnplay:result', result: r.toJSON() }),
                                     (e) => reply({ type: 'attnplay:error', message: e.message }));
    } else if (msg.type === 'attnplay:highlight') {
      try {
        api.highlight(msg.query, msg.key);
      } catch (e) {
        console.warn(`attnplay: ignored attnplay:highlight: ${e.message}`);
      }
    } else {
      console.warn(`attnplay: ignored a message of unknown type ${JSON.stringify(msg.type).slice(0, 60)}`);
    }
  });
}

// The query the page itself wrote into the address bar (sessionStorage: this tab, across reloads): a reload shows it
// again, and it is not a link someone chose, so the autosaved workspace (weights, training) wins over it.
const OWN_QUERY = 'attnplay:own-query';
function sessionGet(k) { try { return sessionStorage.getItem(k); } catch { return null; } }
function sessionSet(k, v) { try { sessionStorage.setItem(k, v); } catch { /* storage denied: links then always win */ } }

function keepAddressInSync(api) {
  let last = '';
  setInterval(() => {
    const q = api.shareQuery();
    if (q !== last) {
      last = q;
      history.replaceState(null, '', `${location.pathname}?${q}`);
      sessionSet(OWN_QUERY, q);
    }
  }, 500);
}

// A URL with state (a shared link, an article's embed) wins over the saved workspace; page options alone do not.
const params = new URLSearchParams(location.search);
const PAGE_ONLY = new Set(['hide', 'readonly', 'lang', 'autosave']);
const query = location.search.replace(/^\?/, '');
const urlHasState = [...params.keys()].some((k) => !PAGE_ONLY.has(k)) && query !== sessionGet(OWN_QUERY);
// index.html saves by itself (autosave=0 opts out: a shared classroom machine); an embed only when its page asks
// (autosave=1), under a key of its own.
const autosave = embedded ? params.get('autosave') === '1' : params.get('autosave') !== '0';

// An embed's record is keyed by its own URL (the figure the article chose): it is restored whatever that URL holds.
const autosaveKey = embedded ? `embed:${location.pathname}${location.search}` : 'index';

try {
  const api = await mount(document.getElementById('app'), { query: location.search, embed: embedded, autosave, autosaveKey,
                                                             restore: embedded || !urlHasState });
  window.attnplay = api;
  if (embedded) bridge(api);
  else keepAddressInSync(api);
} catch (e) {
  // mount() already shows the reason on the page (missing WebGL2 or SIMD, ...)
}
