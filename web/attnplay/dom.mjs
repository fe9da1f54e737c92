// attnplay.mjs, the page's side of mounting: what the browser can do, elements, scripts, and the status overlay over
// the figure (loading, a fatal reason, "graphics paused").
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

export function hasWebGL2() {
  try {
    return !!document.createElement('canvas').getContext('webgl2');
  } catch {
    return false;
  }
}

export function hasWasmSimd() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

export function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

export function el(tag, style, attrs = {}) {
  const e = document.createElement(tag);
  Object.assign(e.style, style);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// The overlay: shown while loading, with a fatal reason (it stays), or while the WebGL context is away.
export function statusOverlay(box, loadingText) {
  const node = el('div', { position: 'absolute', inset: '0', display: 'flex', alignItems: 'center', justifyContent: 'center',
                           background: '#f0f0f0', color: '#333', textAlign: 'center', padding: '2rem', boxSizing: 'border-box',
                           font: '16px system-ui, sans-serif' }, { role: 'status' });
  node.textContent = loadingText;
  box.append(node);
  return {
    node,
    fatal(message) {
      node.style.display = 'flex';
      node.style.color = '#b00020';
      node.textContent = message;
      node.dataset.error = '1';
      console.error(`attnplay: ${message}`);
      return new Error(message);
    },
    loaded() { if (!node.dataset.error) node.style.display = 'none'; },
    lost(text) {
      node.style.display = 'flex';
      node.dataset.lost = '1';
      node.textContent = text;
    },
    restored() {
      delete node.dataset.lost;
      if (!node.dataset.error) node.style.display = 'none';
    },
  };
}

// What the app needs of the browser, or the sentence that says what is missing.
export function missingFeature() {
  if (typeof WebAssembly !== 'object') return 'This browser cannot run WebAssembly, which attnplay needs.';
  if (!hasWebGL2()) return 'This browser or device has no WebGL2, which attnplay needs to draw. Try a current Chrome, Firefox, Edge or Safari, with hardware acceleration on.';
  if (!hasWasmSimd()) return 'This browser does not support WebAssembly SIMD, which attnplay needs. Chrome 91+, Firefox 89+, Safari 16.4+ and Edge 91+ do.';
  return null;
}
