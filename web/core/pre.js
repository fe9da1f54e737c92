// attnplay-core.mjs, part 1 of 3 (extern-pre-js): emscripten's Node code paths call require() and read
// __dirname, which an ES module lacks; give it both, and nothing in browsers.
const attnplayIsNode = typeof process === 'object' && !!(process.versions && process.versions.node);
const require = attnplayIsNode ? (await import('module')).createRequire(import.meta.url) : undefined;
const __dirname = attnplayIsNode ? (await import('path')).dirname((await import('url')).fileURLToPath(import.meta.url)) : '';
