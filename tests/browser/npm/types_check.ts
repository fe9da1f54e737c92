// Compiled (tsc --strict --noEmit) against the installed npm tarball by npm_package.test.mjs: the package's types
// must describe both APIs as the README uses them.
import { mount, mountInline, hasWebGL2, type App, type MountOptions } from 'attnplay';
import { createCore, type Core, type Model, type Result } from 'attnplay/core';
async function main(): Promise<void> {
  const core: Core = await createCore({ kernels: 'simd128' });
  const r: Result = core.compute({ text: 'the cat', heads: 2 });
  const w: number = r.layers[0].heads[0].weights[0][0];
  const a = core.attention({ q: new Float32Array(4), k: new Float32Array(4), v: new Float32Array(4), heads: 1, nq: 2, nk: 2, dk: 2 });
  const ctx: Float32Array = a.context;
  const t = core.createTrainer({ mode: 'transformer' }, { task: 'copy', optimizer: 'adam' });
  const p = t.run(10);
  const model: Model = await core.loadModel('models/gpt2/', { maxMB: 2000 });
  const layers: number = model.info.layers;
  const pr: Result = core.compute({ mode: 'pretrained', model, text: 'the cat', logits: 'last' });
  model.free();
  const opts: MountOptions = { query: '?preset=chinese', embed: true };
  const app: App = await mount(document.body, opts);
  const res: Result = await app.setConfig({ heads: 4 });
  app.setView('heads');
  app.applyQuery('?layer=1');
  const off = app.on('change', (x) => console.log(x.tokens, w, ctx, p.step, res, layers, pr));
  off();
  hasWebGL2();
  await mountInline();
}
main();
