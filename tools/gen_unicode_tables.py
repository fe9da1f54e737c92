#!/usr/bin/python3
"""Generate src/model/unicode_data.cpp's tables from the Unicode Character Database (stdlib only).

Usage: gen_unicode_tables.py [--ucd DIR] --out FILE.inc
  --ucd   directory holding UnicodeData.txt, DerivedAge.txt, PropList.txt, DerivedCoreProperties.txt,
          DerivedNormalizationProps.txt, SpecialCasing.txt and CaseFolding.txt (default: /usr/share/unicode,
          Debian's unicode-data package)
  --out   the C++ include file to write (written only when its content changes, so builds stay incremental)

Nothing generated is committed: the build runs this into its build directory. Tables are runs and ranges, not
one entry per code point, because they also go into the WebAssembly module.

Why two Unicode versions: the Rust `tokenizers` library, which src/model/hf_tokenizer.cpp must equal, normalises
(NFC/NFD/NFKC/NFKD, its `is_combining_mark`) with the crate unicode-normalization-alignments 0.1.12, whose tables
are Unicode 9.0, and BertNormalizer / BertPreTokenizer / Punctuation classify with unicode_categories 0.1.1,
whose tables are Unicode 8.0. The decomposition and combining-class tables below are therefore cut to the code
points assigned by Unicode 9.0 (normalisation data of an assigned character never changes, so this is exactly
Unicode 9.0's), and an age table lets the C++ side answer "was this assigned by 8.0" for the category checks.
Everything else (general categories for regex \\p{..}, White_Space, Alphabetic, lowercase, case folding) is the
database's own version.
"""

import argparse
import os
import sys

CATEGORY_ORDER = "Cn Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So Zs Zl Zp Cc Cf Cs Co".split()
MAX_CP = 0x10FFFF
NORMALIZATION_AGE = (9, 0)   # unicode-normalization-alignments 0.1.12


def fail(msg):
    sys.stderr.write("gen_unicode_tables.py: %s\n" % msg)
    sys.exit(1)


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    yield [field.strip() for field in line.split(";")]
    except OSError as e:
        fail("cannot read %s: %s" % (path, e))


def parse_range(text):
    if ".." in text:
        a, b = text.split("..")
        return int(a, 16), int(b, 16)
    v = int(text, 16)
    return v, v


def read_unicode_data(ucd):
    """Per code point: category, combining class, decomposition (compat flag, list), simple lowercase."""
    cat = {}
    ccc = {}
    decomp = {}
    lower = {}
    first = None
    for f in read_lines(os.path.join(ucd, "UnicodeData.txt")):
        if len(f) < 15:
            fail("UnicodeData.txt: short line %r" % (f,))
        cp = int(f[0], 16)
        name = f[1]
        if name.endswith(", First>"):
            first = cp
            continue
        if name.endswith(", Last>"):
            if first is None:
                fail("UnicodeData.txt: range end without start at %04X" % cp)
            for c in range(first, cp + 1):
                cat[c] = f[2]
            first = None
            continue
        cat[cp] = f[2]
        if int(f[3]) != 0:
            ccc[cp] = int(f[3])
        if f[5]:
            parts = f[5].split()
            compat = parts[0].startswith("<")
            if compat:
                parts = parts[1:]
            decomp[cp] = (compat, [int(p, 16) for p in parts])
        if f[13]:
            lower[cp] = int(f[13], 16)
    return cat, ccc, decomp, lower


def read_age(ucd):
    age = {}
    for f in read_lines(os.path.join(ucd, "DerivedAge.txt")):
        a, b = parse_range(f[0])
        major, minor = (int(x) for x in f[1].split("."))
        if major > 15 or minor > 15:
            fail("DerivedAge.txt: age %s does not fit the 4+4-bit code" % f[1])
        for c in range(a, b + 1):
            age[c] = (major, minor)
    return age


def read_property(ucd, filename, prop):
    out = set()
    for f in read_lines(os.path.join(ucd, filename)):
        if f[1] == prop:
            a, b = parse_range(f[0])
            out.update(range(a, b + 1))
    if not out:
        fail("%s: no %s entries" % (filename, prop))
    return out


def read_special_lower(ucd):
    """Unconditional SpecialCasing lowercase mappings (as Rust's char::to_lowercase applies them)."""
    out = {}
    for f in read_lines(os.path.join(ucd, "SpecialCasing.txt")):
        if len(f) >= 5 and f[4]:
            continue  # conditional (Final_Sigma, language-specific): char::to_lowercase ignores them
        cp = int(f[0], 16)
        out[cp] = [int(x, 16) for x in f[1].split()]
    return out


def read_simple_fold(ucd):
    out = {}
    for f in read_lines(os.path.join(ucd, "CaseFolding.txt")):
        if f[1] in ("C", "S"):
            out[int(f[0], 16)] = int(f[2], 16)
    return out


def read_full_fold(ucd):
    """Status F: folds to several code points (Oniguruma applies them; the regex engine refuses patterns they
    would affect)."""
    out = {}
    for f in read_lines(os.path.join(ucd, "CaseFolding.txt")):
        if f[1] == "F":
            out[int(f[0], 16)] = [int(x, 16) for x in f[2].split()]
    return out


def runs(values):
    """values: list indexed by code point -> [(start, value)] where each run extends to the next start."""
    out = []
    prev = object()
    for cp, v in enumerate(values):
        if v != prev:
            out.append((cp, v))
            prev = v
    return out


def ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def delta_runs(mapping):
    """{cp: target} (single code points) -> [(start, count, stride, delta)] runs of equal delta, stride 1 or 2."""
    items = sorted(mapping.items())
    out = []
    i = 0
    while i < len(items):
        cp, t = items[i]
        delta = t - cp
        best = (1, 1)
        for stride in (1, 2):
            n = 1
            while (i + n < len(items) and items[i + n][0] == cp + n * stride
                   and items[i + n][1] - items[i + n][0] == delta):
                n += 1
            if n > best[0]:
                best = (n, stride)
        n, stride = best
        out.append((cp, n, stride, delta))
        i += n
    return out


def utf8_escape(cps):
    out = []
    for b in "".join(chr(c) for c in cps).encode("utf-8"):
        out.append("\\x%02X" % b)
    return "".join(out)


def emit_u32(lines, name, values, per_line=8):
    lines.append("static const uint32_t %s[] = {" % name)
    for i in range(0, len(values), per_line):
        lines.append("  " + ", ".join("0x%X" % v for v in values[i:i + per_line]) + ",")
    lines.append("};")


def emit_i32(lines, name, values, per_line=8):
    lines.append("static const int32_t %s[] = {" % name)
    for i in range(0, len(values), per_line):
        lines.append("  " + ", ".join("%d" % v for v in values[i:i + per_line]) + ",")
    lines.append("};")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    ucd = args.ucd

    version = "unknown"
    try:
        with open(os.path.join(ucd, "DerivedAge.txt"), encoding="utf-8") as f:
            head = f.readline()
        # "# DerivedAge-15.0.0.txt"
        if "DerivedAge-" in head:
            version = head.split("DerivedAge-")[1].split(".txt")[0]
    except OSError as e:
        fail("cannot read DerivedAge.txt: %s" % e)

    cat, ccc, decomp, lower = read_unicode_data(ucd)
    age = read_age(ucd)
    white = read_property(ucd, "PropList.txt", "White_Space")
    alpha = read_property(ucd, "DerivedCoreProperties.txt", "Alphabetic")
    full_excl = read_property(ucd, "DerivedNormalizationProps.txt", "Full_Composition_Exclusion")
    special_lower = read_special_lower(ucd)
    fold = read_simple_fold(ucd)
    full_fold = read_full_fold(ucd)

    for c in cat.values():
        if c not in CATEGORY_ORDER:
            fail("UnicodeData.txt: unknown category %s" % c)

    def by_norm_age(cp):
        a = age.get(cp)
        return a is not None and a <= NORMALIZATION_AGE

    lines = []
    lines.append("// Generated by tools/gen_unicode_tables.py from the Unicode Character Database %s. Do not edit;" % version)
    lines.append("// do not commit (the build regenerates it). Read by src/model/unicode_data.cpp.")
    lines.append('#define ATTNPLAY_UCD_VERSION "%s"' % version)
    lines.append('#define ATTNPLAY_UCD_CATEGORY_ORDER "%s"' % " ".join(CATEGORY_ORDER))
    lines.append("#define ATTNPLAY_UCD_NORMALIZATION_VERSION \"%d.%d\"" % NORMALIZATION_AGE)
    lines.append("")

    # 1. General category runs: (start << 5) | category, covering 0..10FFFF.
    cat_values = [CATEGORY_ORDER.index(cat.get(cp, "Cn")) for cp in range(MAX_CP + 1)]
    lines.append("// General categories: (first code point << 5) | category index; a run lasts to the next entry.")
    emit_u32(lines, "kCategoryRuns", [(s << 5) | v for s, v in runs(cat_values)])
    lines.append("")

    # 2. Age runs: (start << 8) | (major << 4 | minor), 0xFF = unassigned.
    age_values = []
    for cp in range(MAX_CP + 1):
        a = age.get(cp)
        age_values.append(0xFF if a is None else (a[0] << 4) | a[1])
    lines.append("// DerivedAge: (first code point << 8) | (major << 4 | minor); 0xFF = unassigned. Runs as above.")
    emit_u32(lines, "kAgeRuns", [(s << 8) | v for s, v in runs(age_values)])
    lines.append("")

    # 3. White_Space and Alphabetic ranges: first, last pairs.
    lines.append("// White_Space (PropList.txt): first, last pairs.")
    emit_u32(lines, "kWhiteSpaceRanges", [v for r in ranges(white) for v in r])
    lines.append("// Alphabetic (DerivedCoreProperties.txt): first, last pairs.")
    emit_u32(lines, "kAlphabeticRanges", [v for r in ranges(alpha) for v in r])
    lines.append("")

    # 4. Lowercase: simple mappings as delta runs + multi-code-point unconditional SpecialCasing entries.
    single = {}
    multi = {}
    for cp in range(MAX_CP + 1):
        if cp in special_lower:
            m = special_lower[cp]
            if len(m) == 1:
                if m[0] != cp:
                    single[cp] = m[0]
            else:
                multi[cp] = m
        elif cp in lower and lower[cp] != cp:
            single[cp] = lower[cp]
    lr = delta_runs(single)
    lines.append("// Lowercase (char::to_lowercase): runs (first, count, stride, delta) of single mappings.")
    emit_i32(lines, "kLowerRuns", [v for r in lr for v in r])
    lines.append("// Unconditional multi-code-point lowercase mappings (SpecialCasing.txt): cp, n, then n code points.")
    mv = []
    for cp in sorted(multi):
        mv.append(cp)
        mv.append(len(multi[cp]))
        mv.extend(multi[cp])
    emit_u32(lines, "kLowerMulti", mv if mv else [0, 0])
    lines.append("static const size_t kLowerMultiCount = %d;" % len(multi))
    lines.append("")

    # 5. Simple case folding (C + S) for case-insensitive regex matching.
    fr = delta_runs({k: v for k, v in fold.items() if k != v})
    lines.append("// Simple case folding (CaseFolding.txt statuses C and S): runs (first, count, stride, delta).")
    emit_i32(lines, "kFoldRuns", [v for r in fr for v in r])
    lines.append("")

    lines.append("// Multi-code-point case foldings (CaseFolding.txt status F): cp, n, then n code points.")
    mf = []
    for cp in sorted(full_fold):
        if len(full_fold[cp]) > 3:
            fail("CaseFolding.txt: a fold longer than 3 code points at %04X" % cp)
        mf.append(cp)
        mf.append(len(full_fold[cp]))
        mf.extend(full_fold[cp])
    emit_u32(lines, "kMultiFold", mf)
    lines.append("static const size_t kMultiFoldCount = %d;" % len(full_fold))
    lines.append("")

    # 6. Canonical combining classes (Unicode 9.0 subset): (start << 8) | ccc runs.
    ccc_values = [ccc.get(cp, 0) if by_norm_age(cp) else 0 for cp in range(MAX_CP + 1)]
    lines.append("// Canonical_Combining_Class of the code points assigned by Unicode %d.%d: (first << 8) | ccc runs."
                 % NORMALIZATION_AGE)
    emit_u32(lines, "kCccRuns", [(s << 8) | v for s, v in runs(ccc_values)])
    lines.append("")

    # 7. Decompositions (one level, as UnicodeData lists them; Unicode 9.0 subset). Hangul is algorithmic.
    keys = []
    offsets = []
    pool = []
    pool_len = 0
    for cp in sorted(decomp):
        if not by_norm_age(cp):
            continue
        compat, mapping = decomp[cp]
        if any(not by_norm_age(m) for m in mapping):
            fail("decomposition of %04X uses a code point newer than the cut" % cp)
        excl = 1 if (cp in full_excl or compat) else 0
        keys.append((cp << 8) | (compat << 1) | excl)
        offsets.append(pool_len)
        enc = "".join(chr(c) for c in mapping).encode("utf-8")
        pool.append(utf8_escape(mapping))
        pool_len += len(enc)
    offsets.append(pool_len)
    if pool_len >= 65536:
        fail("decomposition pool too large for uint16 offsets")
    lines.append("// Decompositions of the code points assigned by Unicode %d.%d, one level as UnicodeData.txt gives"
                 % NORMALIZATION_AGE)
    lines.append("// them (applied recursively at run time): key (cp << 8) | compat << 1 | excluded_from_composition,")
    lines.append("// the mapping is kDecompPool[kDecompOffsets[i] .. kDecompOffsets[i + 1]) in UTF-8.")
    emit_u32(lines, "kDecompKeys", keys)
    lines.append("static const uint16_t kDecompOffsets[] = {")
    for i in range(0, len(offsets), 12):
        lines.append("  " + ", ".join("%d" % v for v in offsets[i:i + 12]) + ",")
    lines.append("};")
    lines.append("static const char kDecompPool[] =")
    chunk = []
    for p in pool:
        chunk.append(p)
        if sum(len(x) for x in chunk) > 100:
            lines.append('  "%s"' % "".join(chunk))
            chunk = []
    if chunk:
        lines.append('  "%s"' % "".join(chunk))
    lines.append("  ;")
    lines.append("")

    text = "\n".join(lines) + "\n"
    out = args.out
    try:
        with open(out, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    d = os.path.dirname(os.path.abspath(out))
    os.makedirs(d, exist_ok=True)
    tmp = out + ".tmp-%d" % os.getpid()
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
