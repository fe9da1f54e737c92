// Build step for the relaxed-SIMD kernel module: check it, then embed it in its JS library.
// The check (src/core/gemm_wasm_kernel.h says why): it shares the
// emscripten module's memory but has a stack pointer of its own, so it must neither use a stack nor own data.
// Fails the build when the assembly touches a global (wasm-ld always defines __stack_pointer; the code must not use
// it), the module has a data section, imports anything but memory, or lacks `gemm` or `exp_shift_sum`.
// Usage: node --experimental-wasm-relaxed-simd kernel_module.mjs kernel.wasm kernel.s library.in.js library.out.js
import fs from 'fs';

const bytes = fs.readFileSync(process.argv[2]);
const fail = (why) => { console.error(`${process.argv[2]}: ${why}`); process.exit(1); };
const names = { 11: 'data (constants in memory)' };
const asm = fs.readFileSync(process.argv[3], 'utf8');
const touch = asm.split('\n').find((l) => /^\s*global\.(get|set)\b|__stack_pointer/.test(l));
if (touch) fail(`the kernel uses a global (its own stack pointer, not the emscripten module's): ${touch.trim()}`);
let at = 8;
const leb = () => { let v = 0, s = 0, b; do { b = bytes[at++]; v |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return v >>> 0; };
while (at < bytes.length) {
  const id = bytes[at++], size = leb();
  if (names[id]) fail(`has a ${names[id]} section`);
  at += size;
}
const mod = new WebAssembly.Module(bytes, undefined);
const imports = WebAssembly.Module.imports(mod);
if (imports.length !== 1 || imports[0].kind !== 'memory') fail(`imports ${JSON.stringify(imports)}, expected only the memory`);
for (const name of ['gemm', 'exp_shift_sum'])
  if (!WebAssembly.Module.exports(mod).some((e) => e.name === name && e.kind === 'function')) fail(`exports no ${name}`);

const library = fs.readFileSync(process.argv[4], 'utf8');
if (!library.includes('@KERNEL_BASE64@')) fail(`${process.argv[4]} has no @KERNEL_BASE64@`);
fs.writeFileSync(process.argv[5], library.replace('@KERNEL_BASE64@', bytes.toString('base64')));
