// The tutorial page: clicking a sentence sends its figure a message (embed.html's postMessage API) and shows
// what came back. Only documented message types are sent; replies are read as data, never as HTML.
const frames = new Map([...document.querySelectorAll('iframe')].map((f) => [f.id, f]));

function send(figure, message) {
  const frame = frames.get(figure);
  if (!frame) return;
  frame.contentWindow.postMessage(message, new URL(frame.src, location.href).origin);
}

for (const cue of document.querySelectorAll('.cue')) {
  cue.addEventListener('click', () => {
    for (const other of document.querySelectorAll(`.cue[data-figure="${cue.dataset.figure}"]`)) other.classList.remove('active');
    cue.classList.add('active');
    if (cue.dataset.config) send(cue.dataset.figure, { type: 'attnplay:setConfig', config: JSON.parse(cue.dataset.config) });
    if (cue.dataset.highlight) {
      const [query, key] = cue.dataset.highlight.split(',').map(Number);
      send(cue.dataset.figure, { type: 'attnplay:highlight', query, key });
    }
  });
}

window.addEventListener('message', (event) => {
  const frame = [...frames.values()].find((f) => f.contentWindow === event.source);
  const msg = event.data;
  if (!frame || !msg || typeof msg !== 'object') return;
  const caption = document.querySelector(`[data-caption="${frame.id}"]`);
  if (msg.type === 'attnplay:result') {
    const r = msg.result;
    const layers = r.cross || r.layers;  // an encoder-decoder's result (SPEC §8) has encoder / decoder_self / cross
    const heads = layers[0].heads.length;
    caption.textContent = r.cross
      ? `${r.source_tokens.length} source → ${r.tokens.length} target tokens · ${heads} head${heads > 1 ? 's' : ''}`
      : `${r.tokens.length} tokens · ${heads} head${heads > 1 ? 's' : ''}`;
  } else if (msg.type === 'attnplay:error') {
    caption.textContent = `refused: ${msg.message}`;
  }
});
