// attnplay page shell (index.html and embed.html): mounts the app (attnplay.mjs) on the whole page, exposes it as
// window.attnplay (../shared/SPEC.md §6), keeps index.html's address bar equal to the share link, and in
// embed.html answers the parent page's messages:
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

function keepAddressInSync(api) {
  let last = '';
  setInterval(() => {
    const q = api.shareQuery();
    if (q !== last) {
      last = q;
      history.replaceState(null, '', `${location.pathname}?${q}`);
    }
  }, 500);
}

try {
  const api = await mount(document.getElementById('app'), { query: location.search, embed: embedded });
  window.attnplay = api;
  if (embedded) bridge(api);
  else keepAddressInSync(api);
} catch (e) {
  // mount() already shows the reason on the page (missing WebGL2 or SIMD, ...)
}
