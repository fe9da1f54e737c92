// attnplay.mjs, assets: the build's files the app fetches after its own script (or takes from options.assets in a
// self-contained page), and the fonts, on demand: the Latin cut of the face comes with the app; the CJK cut (about
// 0.7 MB) only once a glyph in use, or lang=zh, needs it (until then such glyphs draw as placeholders, then redraw).
export function assetSource(base, assets) {
  return {
    // A font file's bytes, or null (not there, not fetched: the app draws with the built-in font).
    font: (name) => (assets ? Promise.resolve(assets.fonts?.[name] ?? null)
      : fetch(new URL(`fonts/${name}`, base)).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null)),
  };
}

// The fonts for one app: the Latin cut handed over when it arrives, the CJK cut once the app asks for it.
export function fontFeeder(source, getModule) {
  const latin = source.font('attnplay-latin.ttf');
  let cjkRequested = false;
  const give = (buf, setter, what) => {
    const M = getModule();
    if (!buf || !M) return console.warn(`attnplay: ${what}`);
    M.attnplayWithBytes(buf, setter);  // the app copies it
  };
  return {
    // After the module is up: the Latin cut, as soon as its download ends.
    start() {
      latin.then((buf) => give(buf, (p, n) => getModule()._ap_app_set_latin_font(p, n),
                               'the font did not load; the UI uses the built-in bitmap font'));
    },
    // Each frame: the CJK cut, once, when the app first needs it.
    poll() {
      const M = getModule();
      if (cjkRequested || M._ap_app_needs_cjk() !== 1) return;
      cjkRequested = true;
      source.font('attnplay-cjk.ttf').then((buf) => give(buf, (p, n) => getModule()._ap_app_set_font(p, n),
                                                         'the CJK font did not load; Chinese text will show as ?'));
    },
  };
}
