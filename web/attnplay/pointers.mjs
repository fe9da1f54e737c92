// attnplay.mjs, pointer, gesture and text routing between the page and the app.
//
// Pointers. A finger tells the app to treat taps as hover (they stay until the next tap). In an embed, the page
// scrolls under a wheel turn or a swipe unless the app has something of its own there (a scrolling panel, a mask
// to paint, a zoomed heatmap to pan): such events are kept from SDL, which would otherwise swallow them. Ctrl+wheel
// and a two-finger pinch zoom the heatmap under them, as embedded maps do.
//
// Text. While ImGui has an active text box, a hidden textarea holds the focus (over that box, so an IME shows its
// candidates there) and forwards committed text: SDL2 only turns keypress into text, so IME input would be lost. A
// tap on a text box opens the on-screen keyboard: the focus must be given inside the gesture (iOS, Android).
import { el } from './dom.mjs';

export function pointers(canvas, box, M, embed) {
  const local = (x, y) => { const r = canvas.getBoundingClientRect(); return [x - r.left, y - r.top]; };
  canvas.addEventListener('pointerdown', (e) => M._ap_app_pointer(e.pointerType === 'touch' ? 1 : 0), { capture: true });
  box.addEventListener('wheel', (e) => {
    const [x, y] = local(e.clientX, e.clientY);
    if (e.ctrlKey) {  // a trackpad pinch arrives as Ctrl+wheel too
      e.preventDefault();
      e.stopPropagation();
      M._ap_app_zoom(Math.pow(1.25, -Math.sign(e.deltaY) * Math.min(4, Math.abs(e.deltaY) / 50 || 1)), x, y);
    } else if (embed && M._ap_app_wants_wheel(x, y) !== 1) {
      e.stopPropagation();  // SDL never sees it: the browser scrolls the article
    }
  }, { capture: true, passive: false });
  const pageTouches = new Set();  // touches that belong to the page (scrolling), not to the app
  let pinch = null;
  const spread = (t) => Math.hypot(t[0].clientX - t[1].clientX, t[0].clientY - t[1].clientY);
  box.addEventListener('touchstart', (e) => {
    if (e.touches.length >= 2) {
      const t = e.touches;
      pinch = { d: spread(t) };
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    const t = e.changedTouches[0];
    const [x, y] = local(t.clientX, t.clientY);
    if (embed && M._ap_app_wants_drag(x, y) !== 1) {
      pageTouches.add(t.identifier);  // a tap still reaches the app as the browser's click
      e.stopPropagation();
    }
  }, { capture: true, passive: false });
  box.addEventListener('touchmove', (e) => {
    if (pinch && e.touches.length >= 2) {
      const t = e.touches;
      const d = spread(t);
      const [x, y] = local((t[0].clientX + t[1].clientX) / 2, (t[0].clientY + t[1].clientY) / 2);
      if (pinch.d > 0 && d > 0) M._ap_app_zoom(d / pinch.d, x, y);
      pinch.d = d;
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    if ([...e.changedTouches].some((t) => pageTouches.has(t.identifier))) e.stopPropagation();
  }, { capture: true, passive: false });
  const end = (e) => {
    if (pinch) {  // SDL sees every end (it may have seen the first finger land before the second made a pinch)
      if (e.touches.length < 2) pinch = null;
      return;
    }
    let page = false;
    for (const t of e.changedTouches) page = pageTouches.delete(t.identifier) || page;
    if (page) e.stopPropagation();
  };
  box.addEventListener('touchend', end, { capture: true });
  box.addEventListener('touchcancel', end, { capture: true });
}


// The hidden textarea (appended to box) and its routing; sync() once per drawn frame.
export function textInput(box, canvas, getModule) {
  const ime = el('textarea', { position: 'fixed', left: '0', top: '0', width: '2px', height: '1.2em', opacity: '0', border: '0',
                               padding: '0', resize: 'none', overflow: 'hidden', pointerEvents: 'none', fontSize: '16px' },
                 { 'aria-hidden': 'true', autocomplete: 'off', autocorrect: 'off', autocapitalize: 'off', spellcheck: 'false' });
  box.append(ime);
  let wantsText = false;
  const layout = () => JSON.parse(getModule().attnplayCall(() => getModule()._ap_app_layout()));
  const forward = (text) => { if (text) getModule().attnplayWithText(text, (p, n) => getModule()._ap_app_add_text(p, n)); };
  const place = (r, b) => {
    ime.style.left = `${r.left + b[0]}px`;
    ime.style.top = `${r.top + b[1]}px`;
  };
  ime.addEventListener('input', (e) => {
    if (e.isComposing) return;
    forward(ime.value);
    ime.value = '';
  });
  ime.addEventListener('compositionend', (e) => {
    forward(e.data);
    ime.value = '';
  });
  canvas.addEventListener('pointerup', (e) => {
    if (e.pointerType !== 'touch' || !getModule()) return;
    const l = layout();
    const r = canvas.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    for (const name of ['text_input', 'key_text_input', 'chip_editor']) {
      const b = l[name];
      if (b && x >= b[0] && y >= b[1] && x < b[0] + b[2] && y < b[1] + b[3]) {
        place(r, b);
        ime.focus({ preventScroll: true });
        return;
      }
    }
  });
  return {
    sync() {
      const want = getModule()._ap_app_wants_text() === 1;
      if (want === wantsText) return;
      wantsText = want;
      if (want) {
        const active = layout().active_text;
        if (active) place(canvas.getBoundingClientRect(), active);
        ime.focus({ preventScroll: true });
      } else {
        ime.blur();
        canvas.focus({ preventScroll: true });
      }
    },
  };
}
