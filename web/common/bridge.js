// attnplay: the one bridge between JS and an engine's wasm memory, in both modules (emscripten --pre-js of
// attnplay-core.mjs and attnplay-app.js). Every value that crosses into an engine goes through these, so allocating,
// copying and freeing (in finally: also when the engine refuses or throws) and the argument checks are written once:
//   Module.attnplayFail(message)           throws an Error named AttnplayError (one line naming the field)
//   Module.attnplayJson(value, what)       an object -> JSON text for the engine (a string passes as it is); NaN and
//                                          ±Infinity (JSON would make them null: "the default") and BigInt are
//                                          refused by name
//   Module.attnplayWithText(text, fn)      fn(ptr, len) with text as UTF-8 in the heap
//   Module.attnplayWithBytes(bytes, fn)    fn(ptr, len) with a copy of bytes (Uint8Array, ArrayBuffer or a typed array)
//   Module.attnplayAnswer()                the text of the engine's last answer (ap_result_ptr / ap_result_len)
//   Module.attnplayAnswerBytes()           the same as bytes (a copy)
//   Module.attnplayCall(fn)                fn() returns 1 (ok: the answer's text is returned) or 0 (refused: throws it)
//   Module.attnplayMalloc(n, what)         a heap pointer as an unsigned number (the heap may pass 2 GB), or throws
// Pointers are unsigned: a wasm i32 arrives in JS signed, so every one goes through `>>> 0` (and `>>> 2` to index
// HEAPF32).
Module.attnplayMalloc = function (n, what) {
  const p = Module._malloc(Math.max(1, n)) >>> 0;
  if (!p) Module.attnplayFail(`out of memory: ${what} (${n} bytes) do not fit in the WebAssembly heap`);
  return p;
};
Module.attnplayFail = function (message) {
  const e = new Error(message);
  e.name = 'AttnplayError';
  throw e;
};

Module.attnplayJson = function (value, what) {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '{}';
  try {
    return JSON.stringify(value, function (key, v) {
      if (typeof v === 'number' && !Number.isFinite(v)) Module.attnplayFail(`${key === '' ? what : key} must be a finite number (got ${v})`);
      if (typeof v === 'bigint') Module.attnplayFail(`${key === '' ? what : key} must be a number, not a BigInt`);
      return v;
    });
  } catch (e) {
    if (e && e.name === 'AttnplayError') throw e;
    Module.attnplayFail(`${what}: cannot be turned into JSON (${e && e.message})`);
  }
};

Module.attnplayWithText = function (text, fn) {
  const n = Module.lengthBytesUTF8(text);
  const p = Module.attnplayMalloc(n + 1, 'the text');
  try {
    Module.stringToUTF8(text, p, n + 1);
    return fn(p, n);
  } finally {
    Module._free(p);
  }
};

Module.attnplayWithBytes = function (bytes, fn) {
  const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes)
    : ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
  if (!b) Module.attnplayFail('expected bytes (a Uint8Array or an ArrayBuffer)');
  const p = Module.attnplayMalloc(b.length, 'the bytes');
  try {
    Module.HEAPU8.set(b, p);
    return fn(p, b.length);
  } finally {
    Module._free(p);
  }
};

Module.attnplayAnswer = function () { return Module.UTF8ToString(Module._ap_result_ptr() >>> 0, Module._ap_result_len()); };

Module.attnplayAnswerBytes = function () {
  const p = Module._ap_result_ptr() >>> 0;
  return Module.HEAPU8.slice(p, p + Module._ap_result_len());
};

Module.attnplayCall = function (fn) {
  const ok = fn();
  const text = Module.attnplayAnswer();
  if (!ok) Module.attnplayFail(text);
  return text;
};
