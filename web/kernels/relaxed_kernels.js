// attnplay: the relaxed-SIMD kernel module beside an emscripten module (--js-library; CMake fills in the bytes).
//
// src/core/gemm_relaxed.c, built by clang-19, is embedded below as base64 (≈ 5 KB: no extra file to host or fetch).
// At load, before the emscripten module runs anything: if WebAssembly.validate accepts it (relaxed SIMD is there:
// Chromium 114+, Node 20 with --experimental-wasm-relaxed-simd), it is instantiated on this module's own memory
// (-sIMPORTED_MEMORY) while a run dependency holds main() and the static constructors back; then
// src/platform/web_kernels.cpp puts its `gemm` behind gemm_packed and its `exp_shift_sum` behind the softmax's exp,
// as function pointers (table slots). Otherwise the SIMD128 kernel compiled into the module stays.
// Module.attnplayKernels = 'simd128' keeps the SIMD128 kernel on purpose (tests, benchmarks of the fallback).
mergeInto(LibraryManager.library, {
  $attnplayKernels: { gemm: null, exp: null, why: '' },
  $attnplayKernels__postset: 'attnplayKernelsLoad();',
  $attnplayKernelsLoad__deps: ['$attnplayKernels'],
  $attnplayKernelsLoad: function () {
    if (Module['attnplayKernels'] === 'simd128') { attnplayKernels.why = 'asked for simd128'; return; }
    var text = atob('@KERNEL_BASE64@');
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; ++i) bytes[i] = text.charCodeAt(i);
    if (!WebAssembly.validate(bytes)) { attnplayKernels.why = 'no relaxed SIMD here'; return; }
    addRunDependency('attnplay-relaxed-kernels');
    WebAssembly.instantiate(bytes, { env: { memory: wasmMemory } }).then(function (result) {
      attnplayKernels.gemm = result.instance.exports['gemm'];
      attnplayKernels.exp = result.instance.exports['exp_shift_sum'];
      removeRunDependency('attnplay-relaxed-kernels');
    }, function (e) {
      attnplayKernels.why = 'relaxed kernels failed to load: ' + e;
      err('attnplay: ' + attnplayKernels.why + '; using SIMD128');
      removeRunDependency('attnplay-relaxed-kernels');
    });
  },
  // The kernel module's exports as function pointers: slots added to this module's table (-sALLOW_TABLE_GROWTH), so
  // C++ calls them with call_indirect, wasm to wasm, never through JS. 0 when the module did not load.
  attnplay_relaxed_gemm_pointer__deps: ['$attnplayKernels', '$attnplayKernelsLoad', '$attnplayKernelsSlot'],
  attnplay_relaxed_gemm_pointer: function () { return attnplayKernelsSlot(attnplayKernels.gemm); },
  attnplay_relaxed_exp_pointer__deps: ['$attnplayKernels', '$attnplayKernelsSlot'],
  attnplay_relaxed_exp_pointer: function () { return attnplayKernelsSlot(attnplayKernels.exp); },
  $attnplayKernelsSlot: function (f) {
    if (!f) return 0;
    var slot = wasmTable.grow(1);
    wasmTable.set(slot, f);
    return slot;
  },
});
