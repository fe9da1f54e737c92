// Golden cases from PyTorch (tests/fixtures/make_fixtures.py) through the native CLI and the WASM engine,
// at the SPEC's tolerance (1e-5 relative + 1e-6 absolute).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FIXTURES, compareResults, loadCore, runCli, tmpDir } from './helpers.mjs';

const index = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'golden/index.json'), 'utf8'));
const core = await loadCore();
const dir = tmpDir();

test('the golden index holds at least 20 cases', () => assert.ok(index.cases.length >= 20, `${index.cases.length} cases`));

for (const surface of ['cli', 'wasm']) {
  describe(`golden via ${surface}`, () => {
    for (const c of index.cases) {
      test(c.name, () => {
        const weightsPath = c.weights ? path.join(FIXTURES, 'golden', c.weights) : null;
        let got;
        if (surface === 'cli') {
          const cfg = path.join(dir, `${c.name}.json`);
          fs.writeFileSync(cfg, JSON.stringify(c.config));
          const r = runCli(['compute', cfg, ...(weightsPath ? ['--weights', weightsPath] : [])]);
          assert.equal(r.status, 0, r.stderr);
          got = JSON.parse(r.stdout);
        } else {
          got = core.compute(c.config, weightsPath ? new Uint8Array(fs.readFileSync(weightsPath)) : undefined);
        }
        const cmp = compareResults(got, c.expected);
        assert.deepEqual(cmp.failures, [], `config ${JSON.stringify(c.config).slice(0, 300)}`);
        console.log(`  ${surface} ${c.name}: worst err/allowed ${cmp.worst.toFixed(3)}`);
      });
    }
  });
}
