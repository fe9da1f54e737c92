// attnplay.mjs, training: the Train panel's worker host (Module.attnplayTrain for src/platform/main_web.cpp).
// The Train panel's steps in a Web Worker with an engine of its own (train_worker.mjs beside this file), so training
// never waits for frames: Module.attnplayTrain for src/platform/main_web.cpp. Where no worker can start (no module
// workers, this module served from another origin than the page, a CSP without worker-src 'self'), open() says so,
// or the worker's first answer does, and the app trains inside the frame instead.
export function workerTrainHost(base, module) {
  let worker = null, broken = false, lastGen = 0;
  const deliver = (gen, params, progress, state) => {
    const M = module();
    if (!M) return;
    try {
      M.attnplayWithBytes(params ?? new Uint8Array(0), (p, pn) => M.attnplayWithBytes(state ?? new Uint8Array(0), (sp, sn) =>
        M.attnplayWithText(JSON.stringify(progress), (tp, tn) => M._ap_app_train_update(gen, params ? p : 0, pn / 4, tp, tn, sp, sn))));
    } catch (e) {  // no heap for this update: the next one brings newer weights anyway
      console.warn(`attnplay: a training update was dropped (${e.message})`);
    }
  };
  const start = () => {
    if (worker || broken) return worker;
    if (!base) {  // inline assets (a notebook cell): no worker file to start, training runs in the page
      broken = true;
      return null;
    }
    try {
      worker = new Worker(new URL('train_worker.mjs', base), { type: 'module' });
    } catch (e) {
      broken = true;
      console.warn(`attnplay: no training worker here (${e.message}); training runs in the page`);
      return null;
    }
    worker.onmessage = (e) => {
      if (e.data && e.data.type === 'update') deliver(e.data.gen, e.data.params, e.data.progress, e.data.state);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      console.warn(`attnplay: the training worker failed (${e.message || 'it did not load'}); training runs in the page`);
      broken = true;
      worker = null;
      deliver(lastGen, null, { unavailable: e.message || 'the training worker did not load' }, null);
    };
    return worker;
  };
  return {
    open(gen, config, spec, state) {  // state: a restored session's train_session_snapshot bytes, or null
      lastGen = gen;
      const w = start();
      if (!w) return false;
      w.postMessage({ type: 'open', gen, config, spec, state }, state ? [state.buffer] : []);
      return true;
    },
    post(type, gen, running, spec) { if (worker) worker.postMessage({ type, gen, running, spec }); },
  };
}

