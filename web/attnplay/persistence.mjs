// attnplay.mjs, persistence: autosave (issue 15). The saved workspace is restored unless the URL chose a state, then
// saved a second after each change, at pagehide and when the page is hidden. The notice offers "Start fresh" (the
// record stays until the next save replaces it). A refused record is kept aside under KEY:refused and never applied.
import { el } from './dom.mjs';

// Autosave's store: one IndexedDB database of the page's own (index.html and embeds keep different keys), one record
// per key, each written whole in one transaction (a killed page leaves the last complete one). Every failure becomes
// a sentence the app shows once (full quota, storage denied in a private window, no IndexedDB at all).
export function storageError(e) {
  const name = (e && e.name) || '';
  if (name === 'QuotaExceededError') return 'the browser\'s storage for this page is full';
  if (name === 'SecurityError' || name === 'InvalidStateError') return 'this browser does not let the page store data here (a private window?)';
  return `the browser refused to store it (${name || (e && e.message) || e})`;
}

// One IndexedDB database of the page's own with one object store of records by key: get / put / delete, each in one
// transaction (a killed page leaves the last complete record). Failures reject with storageError's sentence.
function openStore(name) {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined' || !indexedDB) {
      reject(new Error('this browser keeps no storage for pages (IndexedDB is unavailable)'));
      return;
    }
    let req;
    try {
      req = indexedDB.open(name, 1);
    } catch (e) {
      reject(new Error(storageError(e)));
      return;
    }
    req.onupgradeneeded = () => req.result.createObjectStore('records');
    req.onerror = () => reject(new Error(storageError(req.error)));
    req.onblocked = () => reject(new Error('another attnplay tab is upgrading the storage; reload this one'));
    req.onsuccess = () => {
      const db = req.result;
      const tx = (mode, fn) => new Promise((ok, fail) => {
        let t, out;
        try {
          t = db.transaction('records', mode);
          out = fn(t.objectStore('records'));
        } catch (e) {
          fail(new Error(storageError(e)));
          return;
        }
        t.oncomplete = () => ok(out && out.result);
        t.onabort = t.onerror = () => fail(new Error(storageError(t.error)));
      });
      resolve({
        get: (key) => tx('readonly', (s) => s.get(key)),
        put: (key, value) => tx('readwrite', (s) => s.put(value, key)),
        delete: (key) => tx('readwrite', (s) => s.delete(key)),
      });
    };
  });
}

export async function autosaveStore() {
  const s = await openStore('attnplay-autosave');
  return {
    read: (key) => s.get(key).then((v) => (v && v.bytes instanceof Uint8Array ? v.bytes : null)),
    write: (key, bytes) => s.put(key, { bytes, saved: Date.now() }),
  };
}

// Models the user chose to keep (pretrained.mjs): by "local:<folder>", {files: {name: File}, meta: {bytes, files:
// [{name, size, sha256}]}, saved}. The browser stores the Files' bytes itself.
export const modelStore = () => openStore('attnplay-models');

// Autosave for the app in box: key names the record (index.html and embeds keep different ones); restore: put the saved
// workspace back first.
export async function startAutosave(M, box, key, restore) {
  const failed = (message) => M.attnplayWithText(message, (p, n) => M._ap_app_autosave_done(0, p, n));
  let store;
  try {
    store = await autosaveStore();
  } catch (e) {
    failed(e.message);
    return;
  }
  if (restore) {
    const saved = await store.read(key).catch(() => null);
    if (saved) {
      const ok = M.attnplayWithBytes(saved, (p, n) => M._ap_app_restore(p, n));
      const info = JSON.parse(M.attnplayAnswer());
      if (ok) banner(box, info.notice, info.fresh, () => M._ap_app_start_fresh());
      else {
        console.warn(`attnplay: ${info.notice}`);
        await store.write(`${key}:refused`, saved).catch(() => {});
      }
    }
  }
  M.attnplayAutosave = {
    write(bytes) {
      store.write(key, bytes).then(() => M._ap_app_autosave_done(1, 0, 0), (e) => failed(e.message));
    },
  };
  M._ap_app_autosave_start();
  addEventListener('pagehide', () => M._ap_app_autosave_flush());
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') M._ap_app_autosave_flush(); });
}

// The restore notice at the figure's foot, with "Start fresh" and a close button; it leaves by itself after 20 s.
function banner(box, text, freshLabel, onFresh) {
  const b = el('div', { position: 'absolute', left: '50%', bottom: '12px', transform: 'translateX(-50%)', maxWidth: 'calc(100% - 24px)',
                        display: 'flex', gap: '10px', alignItems: 'center', flexWrap: 'wrap', justifyContent: 'center',
                        background: '#1f2430', color: '#fff', padding: '8px 12px', borderRadius: '8px', boxSizing: 'border-box',
                        font: '15px system-ui, sans-serif', boxShadow: '0 2px 8px rgba(0,0,0,.3)', zIndex: '2' },
                 { role: 'status', 'data-restored': '' });
  const t = el('span', {});
  t.textContent = text;
  const fresh = el('button', { font: 'inherit', padding: '6px 12px', minHeight: '36px', borderRadius: '6px', border: '0',
                               background: '#fff', color: '#1f2430', cursor: 'pointer' }, { type: 'button', 'data-start-fresh': '' });
  fresh.textContent = freshLabel;
  fresh.addEventListener('click', () => { onFresh(); b.remove(); });
  const close = el('button', { font: 'inherit', padding: '6px 10px', minHeight: '36px', border: '0', background: 'transparent',
                               color: '#fff', cursor: 'pointer' }, { type: 'button', 'aria-label': 'close' });
  close.textContent = '×';
  close.addEventListener('click', () => b.remove());
  b.append(t, fresh, close);
  box.appendChild(b);
  setTimeout(() => b.remove(), 20000);
}
