// attnplay Node tests: paths, the CLI runner and the SPEC's numeric comparison, shared by every *.test.mjs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.ATTNPLAY_BIN || path.join(ROOT, 'build/native/attnplay');
export const WEB = process.env.ATTNPLAY_WEB || path.join(ROOT, 'build/web');
export const FIXTURES = path.join(ROOT, 'tests/fixtures');

export async function loadCore() {
  const { createCore } = await import(path.join(WEB, 'attnplay-core.mjs'));
  return createCore();
}

// Runs the native CLI; a hang fails the test (timeout), it never stalls the suite.
export function runCli(args, input) {
  const r = spawnSync(BIN, args, { input, encoding: 'utf8', timeout: 60000, maxBuffer: 256 << 20 });
  // EPIPE: the CLI refused its arguments and exited before reading the input we offered; its answer stands.
  if (r.error && !(r.error.code === 'EPIPE' && r.status !== null)) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function tmpDir() { return fs.mkdtempSync(path.join(os.tmpdir(), 'attnplay-test-')); }

// SPEC §3: |got - want| <= 1e-6 + 1e-5·|want| elementwise over nested arrays; null must meet null.
// Returns {failures: [...first few...], worst: max err/allowed}.
export function compareNested(got, want, where = '', acc = { failures: [], worst: 0 }, rel = 1e-5, abs = 1e-6) {
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) {
      acc.failures.push(`${where}: shape differs (${Array.isArray(got) ? got.length : typeof got} vs ${want.length})`);
      return acc;
    }
    for (let i = 0; i < want.length; i++) compareNested(got[i], want[i], `${where}[${i}]`, acc, rel, abs);
    return acc;
  }
  if (want === null || got === null) {
    if (want !== got) acc.failures.push(`${where}: ${got} vs ${want} (null = masked)`);
    return acc;
  }
  const err = Math.abs(got - want), allowed = abs + rel * Math.abs(want);
  acc.worst = Math.max(acc.worst, err / allowed);
  if (!(err <= allowed) && acc.failures.length < 5) acc.failures.push(`${where}: got ${got}, want ${want} (err ${err.toExponential(2)})`);
  return acc;
}

// Compares two SPEC §3 results (tokens, masked rows, every head's matrices, outputs, logits).
export function compareResults(got, want, rel, abs) {
  const acc = { failures: [], worst: 0 };
  if (JSON.stringify(got.tokens) !== JSON.stringify(want.tokens)) acc.failures.push(`tokens ${JSON.stringify(got.tokens)} vs ${JSON.stringify(want.tokens)}`);
  if (JSON.stringify(got.fully_masked_rows) !== JSON.stringify(want.fully_masked_rows)) acc.failures.push('fully_masked_rows differ');
  if (got.layers.length !== want.layers.length) { acc.failures.push('layer count differs'); return acc; }
  want.layers.forEach((wl, l) => {
    wl.heads.forEach((wh, h) => {
      for (const key of ['scores', 'weights', 'context']) compareNested(got.layers[l].heads[h][key], wh[key], `layers[${l}].heads[${h}].${key}`, acc, rel, abs);
    });
    compareNested(got.layers[l].output, wl.output, `layers[${l}].output`, acc, rel, abs);
  });
  if (want.logits) compareNested(got.logits, want.logits, 'logits', acc, rel, abs);
  return acc;
}
