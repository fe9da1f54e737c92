// The npm package in a page: the engine (attnplay/core) for numbers, and the playground (attnplay) in a <div>.
//   npm install attnplay-0.1.0.tgz && npx serve .   (any static server)
import { mount } from 'attnplay';
import { createCore } from 'attnplay/core';

const core = await createCore();
const r = core.compute({ text: '今天天气很好', tokenizer: 'chars', heads: 2 });
const row = r.layers[0].heads[0].weights[0].map((w) => w.toFixed(2)).join(' ');
document.getElementById('numbers').textContent = `${r.tokens.join(' ')}: the first row of head 0 is ${row} (${core.kernels})`;
window.exampleCore = { tokens: r.tokens, weights: r.layers[0].heads[0].weights };

window.attnplay = await mount(document.getElementById('figure'), { query: '?preset=chinese', embed: true });
