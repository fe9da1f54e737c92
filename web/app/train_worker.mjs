// attnplay: the Train panel's steps off the page's thread. web/attnplay.mjs starts this module worker (same origin,
// CSP worker-src 'self'); the app (src/platform/main_web.cpp, AppTrainRemote) sends
//   {type: 'open', gen, config, spec, state?}   a session: the config the panel made, the task spec (core.createTrainer),
//                                       and a restored workspace's whole state to continue from (trainer.restore)
//   {type: 'run', gen, running}         Play / Pause
//   {type: 'step', gen}                 one step (paused)
//   {type: 'set', gen, spec}            optimizer, lr or batch edited
//   {type: 'close', gen}                Reset
// and gets {type: 'update', gen, params: Float32Array (transferred), progress: {step, loss[], accuracy[], alignment[],
// steps_per_s, running, error?}, state?: Uint8Array} ten times a second while running, after each step and on pause
// (state: the whole session, trainer.state(), on pause, after a step and every STATE_MS while running: what the
// page's autosave keeps); or
// {type: 'update', gen, params: null, progress: {unavailable}} when this worker cannot train (the app then trains in
// the frame). Steps run in slices of SLICE_MS; messages are read between slices, so Pause and Reset wait at most one.
import { createCore } from './attnplay-core.mjs';

const SLICE_MS = 8;
const PUBLISH_MS = 100;
const STATE_MS = 2000;

const inbox = [];
let core = null;
let failed = null;
let trainer = null, gen = 0, running = false, scheduled = false;
let pending = { loss: [], accuracy: [], alignment: [] };
let lastPost = 0, lastState = 0, rateT0 = 0, rateSteps = 0, stepsPerS = 0, step = 0;

self.onmessage = (e) => { inbox.push(e.data); drain(); };  // registered first: nothing posted early is lost
createCore().then((c) => { core = c; drain(); }, (e) => { failed = String((e && e.message) || e); drain(); });

function drain() {
  if (!core && !failed) return;
  while (inbox.length) handle(inbox.shift());
}

function post(params, state = null) {
  const progress = { step, loss: pending.loss, accuracy: pending.accuracy, alignment: pending.alignment, steps_per_s: stepsPerS,
                     running };
  if (pending.error) progress.error = pending.error;
  pending = { loss: [], accuracy: [], alignment: [] };
  lastPost = performance.now();
  if (state) lastState = lastPost;
  const transfer = [];
  if (params) transfer.push(params.buffer);
  if (state) transfer.push(state.buffer);
  self.postMessage({ type: 'update', gen, params, progress, state }, transfer);
}

function publish() {
  const whole = trainer && (!running || performance.now() - lastState >= STATE_MS);
  post(trainer ? trainer.params() : null, whole ? trainer.state() : null);
}

function take(r) {
  pending.loss.push(...r.loss);
  pending.accuracy.push(...r.accuracy);
  pending.alignment.push(...r.alignment);
  step = r.step;
  if (r.error) { pending.error = r.error; running = false; }
  rateSteps += r.loss.length;
  const now = performance.now();
  if (now - rateT0 >= 500) {  // steps per second of wall time, over half-second windows
    stepsPerS = rateT0 > 0 ? rateSteps * 1000 / (now - rateT0) : stepsPerS;
    rateT0 = now;
    rateSteps = 0;
  }
}

// The loop: one slice per task, so messages (Pause, Reset) are read between slices.
const tick = new MessageChannel();
tick.port1.onmessage = () => {
  scheduled = false;
  if (!running || !trainer) return;
  take(trainer.run(SLICE_MS));
  if (!running) return publish();  // an error stopped it
  if (performance.now() - lastPost >= PUBLISH_MS) publish();
  schedule();
};
function schedule() {
  if (scheduled) return;
  scheduled = true;
  tick.port2.postMessage(0);
}

function handle(m) {
  if (m.type === 'open') {
    if (failed) {
      self.postMessage({ type: 'update', gen: m.gen, params: null, progress: { unavailable: failed } });
      return;
    }
    if (trainer) trainer.close();
    trainer = null;
    running = false;
    gen = m.gen;
    pending = { loss: [], accuracy: [], alignment: [] };
    rateT0 = performance.now();
    rateSteps = 0;
    stepsPerS = 0;
    try {
      trainer = core.createTrainer(m.config, JSON.parse(m.spec));
      step = 0;
      if (m.state) {  // a restored workspace: continue where it was saved
        trainer.restore(m.state);
        step = trainer.step();
      }
      lastState = performance.now();
    } catch (e) {
      pending.error = e.message;
      post(null);
    }
    return;
  }
  if (m.gen !== gen || !trainer) return;  // a closed or older session
  if (m.type === 'run') {
    running = m.running;
    if (running) {
      rateT0 = performance.now();
      rateSteps = 0;
      schedule();
    } else {
      publish();  // paused: exactly the model at this step
    }
  } else if (m.type === 'step') {
    running = false;
    take(trainer.run(0, 1));
    publish();
  } else if (m.type === 'set') {
    try { trainer.set(JSON.parse(m.spec)); } catch (e) { pending.error = e.message; running = false; publish(); }
  } else if (m.type === 'close') {
    trainer.close();
    trainer = null;
    running = false;
  }
}
