// attnplay desktop smoke test: the native app under Xvfb starts, draws (its own screenshot of the GL frame has
// content), and quits cleanly on a close event (SIGTERM, which SDL turns into SDL_QUIT, like the close button).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.ATTNPLAY_BIN || path.join(ROOT, 'build/native/attnplay');
const SHOTS = path.join(ROOT, 'build/screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The app saves its workspace under $XDG_DATA_HOME/attnplay: the tests give it a directory of their own.
const DATA = fs.mkdtempSync(path.join(ROOT, 'build/desktop-data-'));
const ENV = { ...process.env, XDG_DATA_HOME: DATA };
process.on('exit', () => fs.rmSync(DATA, { recursive: true, force: true }));

async function startXvfb() {
  for (let n = 90 + Math.floor(Math.random() * 100); ; n++) {
    if (fs.existsSync(`/tmp/.X11-unix/X${n}`) || fs.existsSync(`/tmp/.X${n}-lock`)) continue;
    const proc = spawn('Xvfb', [`:${n}`, '-screen', '0', '1280x720x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${n}`); i++) await sleep(50);
    return { proc, display: `:${n}` };
  }
}

// Decodes an 8-bit RGBA/RGB PNG (no interlace) enough to count its distinct colours.
function pngColours(file) {
  const buf = fs.readFileSync(file);
  let off = 8, width = 0, height = 0, channels = 4;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.toString('ascii', off + 4, off + 8), data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); channels = data[9] === 6 ? 4 : 3; }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat)), stride = width * channels;
  const prev = Buffer.alloc(stride), cur = Buffer.alloc(stride), colours = new Set();
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? cur[x - channels] : 0, b = prev[x], c = x >= channels ? prev[x - channels] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      cur[x] = (line[x] + pred) & 255;
    }
    for (let x = 0; x < stride; x += channels * 7) colours.add(cur.readUIntBE(x, 3));
    cur.copy(prev);
  }
  return { width, height, colours: colours.size };
}

test('the desktop app starts under Xvfb, draws, and quits cleanly on a close event', async () => {
  const x = await startXvfb();
  const shot = path.join(SHOTS, 'desktop-smoke.png');
  fs.rmSync(shot, { force: true });
  try {
    const app = spawn(BIN, ['--screenshot', shot, '--screenshot-frame', '20'], { env: { ...ENV, DISPLAY: x.display } });
    let out = '';
    app.stdout.on('data', (d) => { out += d; });
    app.stderr.on('data', (d) => { out += d; });
    const exited = new Promise((res) => app.on('exit', (code, signal) => res({ code, signal })));
    for (let i = 0; i < 300 && !out.includes('wrote'); i++) await sleep(100);
    assert.ok(out.includes('wrote'), `no screenshot; output: ${out}`);
    const png = pngColours(shot);
    assert.deepEqual([png.width, png.height], [1280, 720]);
    assert.ok(png.colours > 50, `the frame has content (${png.colours} colours sampled)`);
    app.kill('SIGTERM');  // SDL turns it into SDL_QUIT: the same path as the window's close button
    const { code, signal } = await Promise.race([exited, sleep(10000).then(() => ({ code: 'timeout' }))]);
    assert.equal(signal, null);
    assert.equal(code, 0, out);
    assert.match(out, /closed after \d+ frames/);
  } finally {
    x.proc.kill();
  }
});

test('--frames closes through the normal quit path; bad options exit 2 with a message', async () => {
  const x = await startXvfb();
  const run = (args) => new Promise((res) => {
    const p = spawn(BIN, args, { env: { ...ENV, DISPLAY: x.display } });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => res({ code, out }));
  });
  try {
    const dir = fs.mkdtempSync(path.join(ROOT, 'build/desktop-test-'));
    const cfg = path.join(dir, 'cfg.json');
    fs.writeFileSync(cfg, JSON.stringify({ text: '今天天气很好', tokenizer: 'chars', mode: 'transformer' }));
    const a = await run(['--frames', '5', '--config', cfg]);
    assert.equal(a.code, 0, a.out);
    assert.match(a.out, /closed after 5 frames/);
    const b = await run(['--size', '10x10']);
    assert.equal(b.code, 2);
    assert.match(b.out, /--size must be WIDTHxHEIGHT/);
    fs.writeFileSync(cfg, '{not json');
    const c = await run(['--config', cfg]);
    assert.equal(c.code, 2);
    assert.match(c.out, /not a JSON object/);
    fs.rmSync(dir, { recursive: true, force: true });
  } finally {
    x.proc.kill();
  }
});

// A workspace record (src/model/workspace.h) built here from its layout: header, CRC-32s, a safetensors payload
// holding only the JSON (a config and a view; no weights).
function crc32(buf) {
  let c = 0xFFFFFFFF;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xFFFFFFFF) >>> 0;
}
function record(workspace) {
  let json = JSON.stringify({ __metadata__: { 'attnplay.workspace': JSON.stringify(workspace) } });
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const header = Buffer.from(json, 'utf8');
  const payload = Buffer.alloc(8 + header.length);
  payload.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(payload, 8);
  const head = Buffer.alloc(32);
  head.write('APWKSP\r\n', 0, 'latin1');
  head.writeUInt32LE(1, 8);
  head.writeBigUInt64LE(BigInt(payload.length), 16);
  head.writeUInt32LE(crc32(payload), 24);
  head.writeUInt32LE(crc32(head.subarray(0, 28)), 28);
  return Buffer.concat([head, payload]);
}

test('the workspace is restored at start; a damaged one is refused by name and moved aside; --fresh skips it', async () => {
  const x = await startXvfb();
  const home = fs.mkdtempSync(path.join(ROOT, 'build/desktop-data-'));
  const file = path.join(home, 'attnplay', 'workspace.attnplay');
  const run = (args) => new Promise((res) => {
    const p = spawn(BIN, args, { env: { ...process.env, XDG_DATA_HOME: home, DISPLAY: x.display } });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => res({ code, out }));
  });
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const good = record({ a: { config: { text: '今天天气很好', tokenizer: 'chars', heads: 4 }, weights: null }, ab_on: false,
                          preset_id: '', view: { query: 'view=heads' }, training: null });
    fs.writeFileSync(file, good);
    const a = await run(['--frames', '5']);
    assert.equal(a.code, 0, a.out);
    assert.match(a.out, /attnplay: restored .*workspace\.attnplay/);
    const f = await run(['--frames', '5', '--fresh']);
    assert.equal(f.code, 0, f.out);
    assert.doesNotMatch(f.out, /restored|corrupt/);
    assert.deepEqual(fs.readFileSync(file), good, '--fresh leaves the saved copy alone');
    const bad = Buffer.from(good);
    bad[bad.length - 5] ^= 0x08;
    fs.writeFileSync(file, bad);
    const b = await run(['--frames', '5']);
    assert.equal(b.code, 0, b.out);
    assert.match(b.out, /saved state is corrupt \(checksum\); starting fresh/);
    assert.ok(!fs.existsSync(file) && fs.existsSync(`${file}.refused`), 'moved aside, not deleted');
    const future = Buffer.from(good);
    future.writeUInt32LE(9, 8);
    future.writeUInt32LE(crc32(future.subarray(0, 28)), 28);
    fs.writeFileSync(file, future);
    const c = await run(['--frames', '5']);
    assert.match(c.out, /saved state is from a newer attnplay \(schema 9; this build reads 1\)/);
    fs.rmSync(home, { recursive: true, force: true });
  } finally {
    x.proc.kill();
  }
});

// A real checkpoint on the desktop (issue 27): the config names a Hugging Face folder on disk, the native build computes
// it in the app's thread (the same host File > Open model... uses), the frame shows its card, and the workspace saved
// at quit records the folder's files with their SHA-256 (hashed a slice a frame after it loaded).
test('a model folder opens natively: drawn, and the saved workspace records its files and digests', async () => {
  const x = await startXvfb();
  const home = fs.mkdtempSync(path.join(ROOT, 'build/desktop-data-'));
  const py = `import sys; sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'tests/pretrained'))})
import make_models as m, hf_files as hf
tok, v = hf.byte_level_bpe(160)
m.write_folder(${JSON.stringify(home)}, 'tiny-gpt2', m.gpt2_config(64, 4, 4, 128, v, 'F32'), m.gpt2_weights(11, 64, 4, 4, 128, v, 'F32'), tok)`;
  const made = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const folder = path.join(home, 'tiny-gpt2');
  const cfg = path.join(home, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ mode: 'pretrained', model: folder, text: 'The cat sat on the mat.' }));
  const shot = path.join(SHOTS, 'desktop-real-model.png');
  fs.rmSync(shot, { force: true });
  try {
    const r = await new Promise((res) => {
      const p = spawn(BIN, ['--config', cfg, '--fresh', '--screenshot', shot, '--screenshot-frame', '30', '--frames', '60'],
                      { env: { ...process.env, XDG_DATA_HOME: home, DISPLAY: x.display } });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { out += d; });
      p.on('exit', (code) => res({ code, out }));
    });
    assert.equal(r.code, 0, r.out);
    assert.ok(pngColours(shot).colours > 50, 'the frame has content');
    const saved = fs.readFileSync(path.join(home, 'attnplay', 'workspace.attnplay'));
    const payload = saved.subarray(32);
    const n = Number(payload.readBigUInt64LE(0));
    const meta = JSON.parse(JSON.parse(payload.subarray(8, 8 + n).toString('utf8')).__metadata__['attnplay.workspace']);
    assert.equal(meta.a.config.mode, 'pretrained');
    const want = fs.readdirSync(folder).sort().map((name) => {
      const b = fs.readFileSync(path.join(folder, name));
      return { name, size: b.length, sha256: crypto.createHash('sha256').update(b).digest('hex') };
    });
    assert.deepEqual(meta.model, { source: folder, files: want });
  } finally {
    x.proc.kill();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
