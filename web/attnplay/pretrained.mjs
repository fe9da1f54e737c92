// attnplay.mjs, real checkpoints: the model worker's host (Module.attnplayModel for src/platform/main_web.cpp) and the
// ways a model folder comes in: File > Open model... (a folder picker, or files picked together), a folder or files
// dropped on the figure, and a URL (?model=models/distilgpt2/, setConfig({mode: 'pretrained', model: url})).
// The compute runs in web/app/model_worker.mjs with an engine of its own; its answers come back as transferred
// buffers (src/model/pretrained_pack.h) that the app reads. Files the user opened are named in the config as
// "local:<folder>" (their bytes never leave the page); a URL stays a URL (resolved against the page).
import { el } from './dom.mjs';
import { modelStore, storageError } from './persistence.mjs';

// The files of a model folder (as transformers saves it) the engine reads; the rest of a folder is left alone.
const MODEL_FILE = /^(config\.json|tokenizer\.json|tokenizer_config\.json|model\.safetensors|model\.safetensors\.index\.json|model-\d+-of-\d+\.safetensors|.*\.safetensors)$/;

function folderName(files) {
  for (const f of files) {
    const rel = f.webkitRelativePath || f.relativePath || '';
    if (rel.includes('/')) return rel.split('/').slice(-2, -1)[0];
  }
  return 'model';
}

// Every file under a dropped directory entry (webkitGetAsEntry), with its relative path.
async function entryFiles(entry, prefix = '') {
  if (entry.isFile) {
    const f = await new Promise((res, rej) => entry.file(res, rej));
    f.relativePath = prefix + entry.name;
    return [f];
  }
  const reader = entry.createReader();
  const out = [];
  for (;;) {
    const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
    if (!batch.length) break;
    for (const e of batch) out.push(...await entryFiles(e, `${prefix}${entry.name}/`));
  }
  return out;
}

// Whether the browser can keep `bytes` more for this page (its storage estimate leaves room, with a 10% margin).
async function roomFor(bytes) {
  try {
    if (!navigator.storage || !navigator.storage.estimate || typeof indexedDB === 'undefined') return false;
    const { quota = 0, usage = 0 } = await navigator.storage.estimate();
    return quota - usage > bytes * 1.1;
  } catch (e) {
    return false;
  }
}

// makeWorker (optional): starts the model worker where the page has no URL for it (a notebook cell's blob worker).
export function workerModelHost(base, module, box, makeWorker = null) {
  const local = new Map();  // "local:<folder>" -> {name: File}
  const meta = new Map();   // "local:<folder>" -> {bytes, files: [{name, size, sha256}]}
  let worker = null;
  const M = () => module();
  const tell = (news) => { const m = M(); if (m) m.attnplayWithText(JSON.stringify(news), (p, n) => m._ap_app_model_local(p, n)); };
  let store = null;
  const models = () => (store ??= modelStore().catch((e) => { store = null; throw e; }));
  // A model kept in an earlier visit, back from the browser's storage (null: not kept, or the storage refused).
  const fromStore = async (key) => {
    try {
      const v = await (await models()).get(key);
      if (!v || !v.files || typeof v.files !== 'object') return null;
      local.set(key, v.files);
      meta.set(key, v.meta);
      tell({ key, ...v.meta, kept: true, can_keep: true });
      return v.files;
    } catch (e) {
      return null;
    }
  };
  const answer = (id, ok, bytes, error) => {
    const m = M();
    if (!m) return;
    try {
      if (ok) m.attnplayWithBytes(bytes, (p, n) => m._ap_app_pretrained_update(id, 1, p, n));
      else m.attnplayWithText(error, (p, n) => m._ap_app_pretrained_update(id, 0, p, n));
    } catch (e) {  // no heap for this answer: say so as a refusal
      m.attnplayWithText(`model: the page has no memory for this result (${e.message}); use fewer tokens`, (p, n) => m._ap_app_pretrained_update(id, 0, p, n));
    }
  };
  const start = () => {
    if (worker) return worker;
    worker = makeWorker ? makeWorker() : new Worker(new URL('model_worker.mjs', base), { type: 'module' });
    worker.onmessage = (e) => {
      const d = e.data;
      if (!d) return;
      if (d.type === 'progress') M()._ap_app_pretrained_progress(d.id, d.done, d.total);
      else if (d.type === 'result') answer(d.id, !d.error, d.bytes, d.error);
      else if (d.type === 'hashed') {
        const m = meta.get(d.key);
        if (m) m.files = d.files;
        tell({ key: d.key, files: d.files });
        // A kept model's record gets the digests too.
        if (m && m.kept) models().then((st) => st.get(d.key).then((v) => v && st.put(d.key, { ...v, meta: m }))).catch(() => {});
      } else if (d.type === 'sweep' && M()) {
        M().attnplayWithText(d.error ?? d.json, (p, n) => M()._ap_app_pretrained_sweep(d.id, d.error ? 0 : 1, d.finished ? 1 : 0, p, n));
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      console.warn(`attnplay: the model worker failed (${e.message || 'it did not load'})`);
      worker = null;
    };
    return worker;
  };
  // The folder's files under its key; then the app opens it (config {mode: 'pretrained', model: key}).
  const open = (files) => {
    const picked = {};
    for (const f of files) {
      const name = (f.webkitRelativePath || f.relativePath || f.name).split('/').pop();
      if (MODEL_FILE.test(name)) picked[name] = f;
    }
    const m = M();
    if (!Object.keys(picked).length) {
      m.attnplayWithText('model: no config.json, model.safetensors or tokenizer.json among the files opened', (p, n) => m._ap_app_notice(p, n));
      return 0;
    }
    const key = `local:${folderName(files)}`;
    local.set(key, picked);
    const bytes = Object.values(picked).reduce((a, f) => a + f.size, 0);
    const names = Object.keys(picked).sort();
    meta.set(key, { bytes, files: names.map((name) => ({ name, size: picked[name].size, sha256: '' })) });
    tell({ key, ...meta.get(key), kept: false });
    roomFor(bytes).then((can) => tell({ key, can_keep: can }));
    if (base || makeWorker) start().postMessage({ type: 'hash', key, files: picked });
    return m.attnplayWithText(key, (p, n) => m._ap_app_open_model(p, n));
  };
  // Keep (or forget) a model opened from files in the browser's storage, after the user said so.
  const keepModel = async (key, keep) => {
    try {
      const st = await models();
      if (keep) {
        if (!local.has(key)) throw new Error('its files are not open in this page');
        const m = { ...meta.get(key), kept: true };
        if (navigator.storage && navigator.storage.persist) await navigator.storage.persist().catch(() => false);
        await st.put(key, { files: local.get(key), meta: m, saved: Date.now() });
        meta.set(key, m);
      } else {
        await st.delete(key);
        if (meta.has(key)) meta.get(key).kept = false;
      }
      tell({ key, kept: keep, storing: false, error: '' });
    } catch (e) {
      tell({ key, kept: false, storing: false, error: e && e.name ? storageError(e) : String((e && e.message) || e) });
    }
  };
  const picker = el('input', { display: 'none' }, { type: 'file', multiple: '' });
  picker.webkitdirectory = true;  // a folder (Chrome, Edge, Firefox, Safari); files picked together also work
  box.append(picker);
  picker.addEventListener('change', () => {
    if (picker.files && picker.files.length) open([...picker.files]);
    picker.value = '';
  });
  // Where a config's model is: its files (opened in this page) or its URL; null when the page does not have it.
  const sourceOf = (cfg) => {
    const key = String(cfg.model);
    if (key.startsWith('local:')) return local.has(key) ? { key, files: local.get(key) } : null;
    const url = new URL(key, location.href).href;
    return { key: url, url };
  };
  return {
    host: {
      compute(id, config, focusLayer, focusHead) {
        if (!base && !makeWorker) {
          answer(id, false, null, 'model: real models need the page\'s files (in a notebook: attnplay.playground(model=...), or attnplay.show_model, which computes in Python)');
          return;
        }
        const cfg = JSON.parse(config);
        const source = sourceOf(cfg);
        if (source) {
          start().postMessage({ type: 'compute', id, config: cfg, focus: [focusLayer, focusHead], source });
          return;
        }
        // A reload, or a workspace from another visit: the browser may keep the files (the user said so), else ask.
        const key = String(cfg.model);
        fromStore(key).then((files) => {
          if (files) start().postMessage({ type: 'compute', id, config: cfg, focus: [focusLayer, focusHead], source: { key, files } });
          else answer(id, false, null, `model: reopen ${key.slice(6)} to continue (File > Open model...): the page keeps a model opened from files only when you ask it to`);
        });
      },
      cancel() { if (worker) worker.postMessage({ type: 'cancel' }); },
      sweep(id, config, position, token) {
        const cfg = JSON.parse(config);
        const source = base || makeWorker ? sourceOf(cfg) : null;
        if (!source) {
          M().attnplayWithText('sweep: the model is not open in this page', (p, n) => M()._ap_app_pretrained_sweep(id, 0, 1, p, n));
          return;
        }
        start().postMessage({ type: 'sweep', id, config: cfg, position, token, source });
      },
      cancelSweep() { if (worker) worker.postMessage({ type: 'cancel_sweep' }); },
      keepModel,
      openModel() { picker.click(); },
    },
    // A drop: a folder (its entries walked) or several files. Returns true when it held model files.
    async drop(dataTransfer) {
      const items = [...(dataTransfer.items || [])];
      const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null)).filter(Boolean);
      let files = [];
      if (entries.some((e) => e.isDirectory)) {
        for (const e of entries) files.push(...await entryFiles(e));
      } else {
        files = [...(dataTransfer.files || [])];
      }
      const names = files.map((f) => f.name);
      if (!names.includes('config.json') && !names.some((n) => n.endsWith('.safetensors') && files.length > 1)) return false;
      open(files);
      return true;
    },
    open,  // (File[]) -> 1 opened, 0 refused
    picker,
  };
}
