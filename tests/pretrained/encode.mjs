// The tokenizers library's own answers (the Rust library, as npm's `tokenizers` 0.23.2 binds it), for the
// pretrained-model goldens (SPEC §9: `tokens`/`token_ids` equal `encode(text, add_special_tokens)`).
//
// Reads one JSON request list on stdin and writes one JSON answer list on stdout, in order:
//   {"op": "encode", "file": "tokenizer.json", "text": "...", "add_special_tokens": true}
//        -> {"ids": [...], "tokens": [...]}
//   {"op": "id_to_token", "file": "tokenizer.json", "ids": [...]}   -> {"tokens": [... or null]}
//   {"op": "load", "file": "tokenizer.json"}                          -> {"vocab_size": N}  (with added tokens)
// A request that fails (a file the library refuses, say) answers {"error": "message"}; the process still exits 0.
//
//   echo '[{"op":"encode","file":"x/tokenizer.json","text":"Hi","add_special_tokens":true}]' | node encode.mjs
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("tokenizers");

const requests = JSON.parse(readFileSync(0, "utf8"));
const cache = new Map();
function load(file) {
  if (!cache.has(file)) {
    try {
      cache.set(file, { tok: Tokenizer.fromFile(file) });
    } catch (e) {
      cache.set(file, { error: String(e && e.message ? e.message : e) });
    }
  }
  const entry = cache.get(file);
  if (entry.error) throw new Error(entry.error);
  return entry.tok;
}

const answers = [];
for (const r of requests) {
  try {
    const tok = load(r.file);
    if (r.op === "encode") {
      const enc = await tok.encode(r.text, null, { addSpecialTokens: r.add_special_tokens !== false });
      answers.push({ ids: enc.getIds(), tokens: enc.getTokens() });
    } else if (r.op === "id_to_token") {
      answers.push({ tokens: r.ids.map((id) => tok.idToToken(id)) });
    } else if (r.op === "load") {
      answers.push({ vocab_size: tok.getVocabSize(true) });
    } else {
      answers.push({ error: `unknown op ${r.op}` });
    }
  } catch (e) {
    answers.push({ error: String(e && e.message ? e.message : e) });
  }
}
process.stdout.write(JSON.stringify(answers));
