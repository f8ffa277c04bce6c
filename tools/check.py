#!/usr/bin/python3
"""Source checks that the compiler does not make (run by tools/check.sh, CI).

Rules (docs/development.md, "Checks"):
  banned   a call to a function of BANNED anywhere under src/ include/ tests/
           fuzz/ bench/
  layer    src/core/ and the headers of core modules include a third-party
           I/O header or a header of an io/app module, or read a clock;
           src/io/ and the headers of io modules include an app header
  lines    a source file over MAX_FILE_LINES lines
  function a function over MAX_FUNC_LINES lines (signature to closing brace)
  params   a function declared in include/ with more than MAX_PARAMS parameters
  testexit a unit test (tests/test_*.c) whose main does not return ad_test_done():
           its failures would be printed but the binary would exit 0 under ctest
The last three take exceptions from tools/limits-allow.txt, one a line:
  file     PATH                 REASON...
  function PATH:FUNCTION        REASON...
  params   FUNCTION             REASON...
An entry without a reason is an error. Standard library only.
"""

import os
import re
import sys

MAX_FILE_LINES = 1000
MAX_FUNC_LINES = 100
MAX_PARAMS = 6
DIRS = ("src", "include", "tests", "fuzz", "bench")
LAYERS = ("core", "io", "app")

# Each banned name, with why and what to use instead.
BANNED = {
    "gets": "no bound; use fgets",
    "sprintf": "no bound; use snprintf",
    "vsprintf": "no bound; use vsnprintf",
    "strcpy": "no bound; use snprintf or memcpy with a known length",
    "strcat": "no bound; use snprintf or struct ad_buf",
    "strncpy": "leaves the result unterminated when it truncates; use snprintf",
    "strncat": "error-prone bound; use snprintf or struct ad_buf",
    "strtok": "hidden state, not reentrant; use strtok_r or strsep",
    "atoi": "no error detection; use strtol with end pointer and errno",
    "atol": "no error detection; use strtol with end pointer and errno",
    "atoll": "no error detection; use strtoll with end pointer and errno",
    "atof": "no error detection; use strtod with end pointer and errno",
    "tmpnam": "racy; use mkstemp or mkdtemp",
    "tempnam": "racy; use mkstemp or mkdtemp",
    "mktemp": "racy; use mkstemp or mkdtemp",
    "asctime": "static buffer; use strftime with gmtime_r",
    "ctime": "static buffer; use strftime with localtime_r",
    "gmtime": "static buffer; use gmtime_r",
    "localtime": "static buffer; use localtime_r",
    "alloca": "unbounded stack use",
}

# Third-party I/O headers the core may not include (by path prefix).
CORE_FORBIDDEN_INCLUDES = ("uv.h", "uv/", "rdkafka.h", "librdkafka/", "curl/", "yaml.h",
                           "lmdb.h", "http_parser.h")
# Functions that read a clock: only the io layer's clock module may call them.
CLOCK_CALLS = ("clock_gettime", "gettimeofday", "time", "clock", "timespec_get", "ftime",
               "uv_now", "uv_hrtime", "uv_update_time")


def strip(text):
    """Blanks comments, string and character literals and preprocessor
    directives (but keeps #include lines and every newline), so that line
    numbers survive and code-looking text in comments is never matched."""
    out = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start:
            j = i
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] == "#":
                # a directive, with its continuation lines
                k = j
                while True:
                    e = text.find("\n", k)
                    if e < 0:
                        e = n
                    if e > k and text[e - 1] == "\\" and e < n:
                        k = e + 1
                        continue
                    break
                directive = text[i:e]
                if re.match(r"\s*#\s*include\b", directive):
                    out.append(directive)
                else:
                    out.append(re.sub(r"[^\n]", " ", directive))
                i = e
                continue
        at_line_start = False
        if c == "\n":
            at_line_start = True
            out.append(c)
            i += 1
        elif text.startswith("/*", i):
            e = text.find("*/", i + 2)
            e = n if e < 0 else e + 2
            out.append(re.sub(r"[^\n]", " ", text[i:e]))
            i = e
        elif text.startswith("//", i):
            e = text.find("\n", i)
            e = n if e < 0 else e
            out.append(" " * (e - i))
            i = e
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def split_params(inner):
    """The parameters of a parenthesized list, split on top-level commas."""
    parts, depth, cur = [], 0, []
    for c in inner:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur).strip())
    parts = [p for p in parts if p]
    if parts == ["void"]:
        return []
    return parts


def top_level_items(code):
    """Yields (kind, head, start, end) for each top-level item of stripped
    code: kind 'body' for 'head { ... }' and 'decl' for 'head;'. start and end
    are the offsets of the opening and closing brace (or of the ';')."""
    depth = 0
    head_start = 0
    open_at = None
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if c == "{":
            if depth == 0:
                open_at = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and open_at is not None:
                yield "body", code[head_start:open_at], open_at, i
                head_start = i + 1
                open_at = None
            elif depth < 0:
                depth = 0
        elif c == ";" and depth == 0:
            yield "decl", code[head_start:i], i, i
            head_start = i + 1
        elif c == "\n" and depth == 0 and code.startswith("#", i + 1):
            head_start = i + 1  # an #include line ends any head
        i += 1


FUNC_HEAD = re.compile(r"([A-Za-z_]\w*)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$", re.S)


def drop_attributes(h):
    """head without its __attribute__((...)) lists (balanced parentheses)."""
    while True:
        m = re.search(r"__attribute__\s*\(", h)
        if not m:
            return h
        depth, i = 0, m.end() - 1
        while i < len(h):
            depth += {"(": 1, ")": -1}.get(h[i], 0)
            if depth == 0:
                break
            i += 1
        h = h[:m.start()] + h[i + 1:]


def function_head(head):
    """(name, params) when head is a function's signature, else None."""
    h = drop_attributes(head).strip()
    if not h or "=" in h.split("(")[0] or h.startswith("typedef"):
        return None
    if re.match(r"(struct|union|enum)\b[^(]*$", h):
        return None
    m = FUNC_HEAD.search(h)
    if not m or m.group(1) in ("if", "while", "for", "switch", "return", "sizeof"):
        return None
    return m.group(1), split_params(m.group(2))


class Checker:
    def __init__(self, root):
        self.root = root
        self.problems = []  # (path, line, rule, message)
        self.allow = {}     # (kind, key) -> [reason, used]
        self.allow_errors = []
        self.header_layer = {}
        self.functions = []  # (path, line, name, length) of every definition

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def report(self, path, line, rule, msg):
        self.problems.append((path, line, rule, msg))

    def files(self):
        out = []
        for d in DIRS:
            for base, dirs, names in os.walk(os.path.join(self.root, d)):
                dirs.sort()
                for name in sorted(names):
                    if name.endswith((".c", ".h")):
                        out.append(self.rel(os.path.join(base, name)))
        return out

    def load_allow(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return
        for no, raw in enumerate(lines, 1):
            s = raw.strip()
            if not s or s.startswith("#"):
                continue
            parts = s.split(None, 2)
            if len(parts) < 3 or parts[0] not in ("file", "function", "params"):
                self.allow_errors.append(f"{self.rel(path)}:{no}: expected "
                                         "'file|function|params TARGET REASON'")
                continue
            self.allow[(parts[0], parts[1])] = [parts[2], False]

    def allowed(self, kind, key):
        e = self.allow.get((kind, key))
        if e:
            e[1] = True
            return True
        return False

    def layer_of_source(self, rel):
        parts = rel.split(os.sep)
        if len(parts) >= 3 and parts[0] == "src" and parts[1] in LAYERS:
            return parts[1]
        if parts[0] == "include":
            return self.header_layer.get(os.path.basename(rel), "core")
        return None

    def map_headers(self, files):
        """include/ad_X.h belongs to the layer of src/LAYER/ad_X.c, else of the
        src/LAYER/ad_X_*.c files when they share one layer (the lowest when
        not); a header without sources (types, inline helpers) is core."""
        sources = {}
        for f in files:
            parts = f.split(os.sep)
            if len(parts) == 3 and parts[0] == "src" and parts[1] in LAYERS:
                sources.setdefault(os.path.splitext(parts[2])[0], set()).add(parts[1])
        for f in files:
            parts = f.split(os.sep)
            if parts[0] == "include" and f.endswith(".h"):
                stem = os.path.splitext(parts[-1])[0]
                layers = sources.get(stem)
                if not layers:
                    layers = set()
                    for s, ls in sources.items():
                        if s.startswith(stem + "_"):
                            layers |= ls
                layer = min(layers, key=LAYERS.index) if layers else "core"
                self.header_layer[parts[-1]] = layer
            elif len(parts) == 3 and parts[0] == "src" and parts[1] in LAYERS and f.endswith(".h"):
                self.header_layer[parts[2]] = parts[1]

    def include_layer(self, inc, rel):
        """The layer an included project header belongs to, or None."""
        if "/" in inc:
            m = re.match(r"(?:\.\./)+(core|io|app)/", inc)
            return m.group(1) if m else None
        return self.header_layer.get(inc)

    def check_file(self, rel):
        with open(os.path.join(self.root, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        code = strip(text)
        nlines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if nlines > MAX_FILE_LINES and not self.allowed("file", rel):
            self.report(rel, nlines, "lines", f"{nlines} lines (limit {MAX_FILE_LINES})")

        seen = set()
        for m in re.finditer(r"(?<![\w.>])(%s)\s*\(" % "|".join(BANNED), code):
            ln = line_of(code, m.start())
            if (ln, m.group(1)) not in seen:
                seen.add((ln, m.group(1)))
                self.report(rel, ln, "banned", f"{m.group(1)}(): {BANNED[m.group(1)]}")

        layer = self.layer_of_source(rel)
        if layer in ("core", "io"):
            for m in re.finditer(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', code, re.M):
                inc = m.group(1)
                ln = line_of(code, m.start())
                if layer == "core" and inc.startswith(CORE_FORBIDDEN_INCLUDES):
                    self.report(rel, ln, "layer", f"core includes the I/O library header <{inc}>")
                    continue
                il = self.include_layer(inc, rel)
                if layer == "core" and il in ("io", "app"):
                    self.report(rel, ln, "layer", f"core includes {inc}, a header of the {il} layer")
                elif layer == "io" and il == "app":
                    self.report(rel, ln, "layer", f"io includes {inc}, a header of the app layer")
        if layer == "core":
            for m in re.finditer(r"(?<![\w.>])(%s)\s*\(" % "|".join(CLOCK_CALLS), code):
                self.report(rel, line_of(code, m.start()), "layer",
                            f"core reads a clock ({m.group(1)}); time comes in as an argument")

        name = os.path.basename(rel)
        if (rel.split(os.sep)[0] == "tests" and name.startswith("test_") and name.endswith(".c")
                and re.search(r"\bint\s+main\s*\(", code)
                and not re.search(r"\breturn\s+ad_test_done\s*\(\s*\)\s*;", code)):
            m = re.search(r"\bint\s+main\s*\(", code)
            self.report(rel, line_of(code, m.start()), "testexit",
                        "main() does not return ad_test_done(): failures would exit 0")

        public = rel.split(os.sep)[0] == "include"
        for kind, head, start, end in top_level_items(code):
            fh = function_head(head)
            if not fh:
                continue
            name, params = fh
            first = line_of(code, start - len(head.lstrip()))
            if kind == "body":
                # from the signature's first line to the closing brace
                length = line_of(code, end) - first + 1
                self.functions.append((rel, first, name, length))
                if length > MAX_FUNC_LINES and not self.allowed("function", f"{rel}:{name}"):
                    self.report(rel, first, "function",
                                f"{name}() is {length} lines long (limit {MAX_FUNC_LINES})")
            if public and len(params) > MAX_PARAMS and not self.allowed("params", name):
                self.report(rel, first, "params",
                            f"{name}() takes {len(params)} parameters (limit {MAX_PARAMS})")

    def run(self):
        files = self.files()
        self.map_headers(files)
        for rel in files:
            self.check_file(rel)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    c = Checker(root)
    c.load_allow(os.path.join(root, "tools", "limits-allow.txt"))
    c.run()
    if sys.argv[1:] == ["--functions"]:
        # every function found, longest first: to see what the counter sees
        for path, line, name, length in sorted(c.functions, key=lambda f: -f[3]):
            print(f"{length:5d} {path}:{line}: {name}()")
        return 0
    for path, line, rule, msg in sorted(c.problems, key=lambda p: (p[2], p[0], p[1])):
        print(f"{path}:{line}: {rule}: {msg}")
    for e in c.allow_errors:
        print(f"{e}", file=sys.stderr)
    for (kind, key), (reason, used) in sorted(c.allow.items()):
        if not used:
            print(f"check: note: tools/limits-allow.txt: '{kind} {key}' matches nothing "
                  "(remove it)", file=sys.stderr)
    if c.problems or c.allow_errors:
        counts = {}
        for p in c.problems:
            counts[p[2]] = counts.get(p[2], 0) + 1
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"check: {len(c.problems)} problem(s): {summary}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
