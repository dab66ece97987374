#!/usr/bin/env python3
"""Compiles every ```cpp block of README.md and docs/**/*.md, so that no snippet in the docs rots.

A block is one of three kinds, chosen by an HTML comment on the line before its fence:

  (none)                                  a whole program: compiled as it is;
  <!-- snippet: fragment -->              statements: compiled as the body of a function, after
                                          `#include <rlhash/rlhash.hpp>`;
  <!-- snippet: skip REASON -->           not compiled (e.g. CUDA code that needs nvcc); the
                                          reason is required and printed on every run.

Compilation is syntax-only (g++ -fsyntax-only with the flags below), which checks every name,
type and template instantiation the snippet uses. `#line` directives map diagnostics to the
Markdown file and line. All fragments share one translation unit (each in its own function), a
program gets one of its own, and identical blocks are compiled once.

Usage: python3 tools/check-doc-snippets.py [--jobs N] [--keep DIR] [--cxx g++] [files...]
Exit status: 0 when every snippet compiles, 1 when one does not, 2 on a malformed document.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# RLHASH_REGISTRY_EXTERN leaves out the definition of the method table (methods/registry.hpp),
# which would instantiate every method's training code in every unit: a third of the time, and
# library code that the test build compiles anyway. A snippet's own code is checked all the same.
FLAGS = ["-std=c++17", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I", "include",
         "-isystem", "/usr/include/eigen3", "-DRLHASH_HAS_ZLIB=1", "-DRLHASH_REGISTRY_EXTERN"]
LANGUAGES = {"cpp", "c++", "cxx"}
MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(\S+)\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$")


class Snippet:
    def __init__(self, path, line, kind, code, reason=""):
        self.path = path      # relative to the repository root
        self.line = line      # 1-based line of the first code line
        self.kind = kind      # "program", "fragment" or "skip"
        self.code = code
        self.reason = reason
        self.duplicates = []  # (path, line) of identical blocks

    def where(self):
        return f"{self.path}:{self.line}"

    def diagnosed_in(self, output):
        """Whether the compiler's (#line-mapped) diagnostics point into this block."""
        last = self.line + self.code.count("\n")
        for m in re.finditer(r"^(.+?):(\d+):(?:\d+:)? ", output, re.M):
            if m.group(1) == self.path and self.line <= int(m.group(2)) <= last:
                return True
        return False


def extract(path):
    """The ```cpp blocks of one Markdown file, with their kinds."""
    rel = os.path.relpath(path, ROOT)
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    snippets, errors = [], []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = len(m.group(1)), m.group(2), m.group(3).lower()
        start = i + 1
        end = start
        while end < len(lines):
            close = lines[end].strip()
            if close.startswith(fence[0] * len(fence)) and set(close) == {fence[0]}:
                break
            end += 1
        if end == len(lines):
            errors.append(f"{rel}:{i + 1}: code fence never closed")
            break
        if lang in LANGUAGES:
            body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[start:end]]
            kind, reason = "program", ""
            previous = i - 1
            while previous >= 0 and lines[previous].strip() == "":
                previous -= 1
            marker = MARKER.match(lines[previous]) if previous >= 0 else None
            if marker:
                kind, reason = marker.group(1), marker.group(2)
                if kind not in ("fragment", "skip", "program"):
                    errors.append(f"{rel}:{previous + 1}: unknown snippet kind '{kind}' "
                                  "(expected fragment, skip or program)")
                elif kind == "skip" and not reason:
                    errors.append(f"{rel}:{previous + 1}: 'snippet: skip' needs a reason")
            snippets.append(Snippet(rel, start + 1, kind, "\n".join(body) + "\n", reason))
        i = end + 1
    return snippets, errors


def c_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def program_source(snippet):
    return f"#line {snippet.line} {c_string(snippet.path)}\n{snippet.code}"


def fragments_source(fragments):
    parts = [
        "#include <rlhash/rlhash.hpp>",
        # A fragment shows a step; a value it computes for the reader need not be used later.
        '#pragma GCC diagnostic ignored "-Wunused-variable"',
        '#pragma GCC diagnostic ignored "-Wunused-but-set-variable"',
    ]
    for n, snippet in enumerate(fragments):
        parts.append(f"void rlhash_doc_fragment_{n}() {{")
        parts.append(f"#line {snippet.line} {c_string(snippet.path)}")
        parts.append(snippet.code + "}")
    return "\n".join(parts) + "\n"


def compile_unit(cxx, flags, source, name, keep):
    directory = keep or tempfile.mkdtemp(prefix="rlhash-snippets-")
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    started = time.monotonic()
    result = subprocess.run([cxx, *flags, path], cwd=ROOT, capture_output=True, text=True)
    if not keep:
        os.remove(path)
        os.rmdir(directory)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help="Markdown files (default: README.md and docs/**/*.md)")
    parser.add_argument("--jobs", type=int, default=2, help="compilations run at once (default 2)")
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"), help="compiler (default $CXX or g++)")
    parser.add_argument("--keep", metavar="DIR", help="write the generated sources into DIR and keep them")
    args = parser.parse_args()

    files = [os.path.abspath(f) for f in args.files]
    if not files:
        files.append(os.path.join(ROOT, "README.md"))
        for directory, _, names in sorted(os.walk(os.path.join(ROOT, "docs"))):
            files += [os.path.join(directory, n) for n in sorted(names) if n.endswith(".md")]

    snippets, errors = [], []
    for path in files:
        found, problems = extract(path)
        snippets += found
        errors += problems
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 2

    # Identical blocks (the README's example repeated in a guide) are compiled once.
    unique = {}
    for snippet in snippets:
        key = (snippet.kind, snippet.code)
        if key in unique:
            unique[key].duplicates.append(snippet.where())
        else:
            unique[key] = snippet
    skipped = [s for s in snippets if s.kind == "skip"]
    programs = [s for s in unique.values() if s.kind == "program"]
    fragments = [s for s in unique.values() if s.kind == "fragment"]

    units = [(program_source(s), f"program_{n}.cpp", [s]) for n, s in enumerate(programs)]
    if fragments:
        units.append((fragments_source(fragments), "fragments.cpp", fragments))
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)

    failed = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [(pool.submit(compile_unit, args.cxx, FLAGS, source, name, args.keep), name, members)
                   for source, name, members in units]
        for future, name, members in futures:
            status, output, seconds = future.result()
            blamed = [s for s in members if s.diagnosed_in(output)] if status != 0 else []
            for snippet in members:
                also = f" (also {', '.join(snippet.duplicates)})" if snippet.duplicates else ""
                if status == 0:
                    verdict = "ok"
                elif snippet in blamed or not blamed:
                    verdict = "FAILED"
                else:
                    verdict = "ok (another block of its translation unit failed)"
                print(f"{snippet.where()}: {snippet.kind}{also}: {verdict}")
            if status != 0:
                failed = True
                print(output.rstrip(), file=sys.stderr)
            print(f"  ({name}: {seconds:.1f} s)")
    for snippet in skipped:
        print(f"{snippet.where()}: skipped: {snippet.reason}")

    checked = sum(1 + len(s.duplicates) for s in programs + fragments)
    print(f"doc snippets: {checked} compiled, {len(skipped)} skipped, "
          f"{'some FAILED' if failed else 'all compile'} ({len(units)} translation units)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
