#!/usr/bin/env python3
"""The house comment style: C files use /* */ comments, C++ files use //.

A .c file is C; a .h file is C++ when it holds namespace, std:: or a template (the tests' helper
headers), C otherwise; other files (.cc) are C++ and are not looked at.

  tools/c_comments.py --check FILE...   lists every // comment in the given C files; exit 1 if any
  tools/c_comments.py --fix FILE...     rewrites them as /* */ (a run of whole-line // comments at
                                        one indentation becomes one block comment)

The scanner knows string and character literals (with escapes), block comments and line
continuations, so "http://" in a string is not a comment. A // comment that contains "*/" or "/*"
cannot be rewritten safely; --fix refuses the file and says where.
"""
import re
import sys


def find_line_comments(text):
    """Yields (start, end) offsets of every // comment (end excludes the newline)."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            q = c
            i += 1
            while i < n and text[i] != q and text[i] != '\n':
                i += 2 if text[i] == '\\' else 1
            i += 1
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            i = n if j < 0 else j + 2
        elif text.startswith('//', i):
            j = i
            while j < n and text[j] != '\n':
                # A backslash-newline continues a // comment onto the next line.
                j += 2 if text[j] == '\\' and j + 1 < n and text[j + 1] == '\n' else 1
            yield i, j
            i = j
        else:
            i += 1


def line_col(text, off):
    line = text.count('\n', 0, off) + 1
    return line, off - (text.rfind('\n', 0, off) + 1) + 1


def body(comment):
    s = comment[2:]
    if s.startswith(' '):
        s = s[1:]
    return s.rstrip()


def fix(path, text):
    comments = list(find_line_comments(text))
    for a, b in comments:
        s = text[a:b]
        if '*/' in s or '/*' in s or '\\\n' in s:
            l, c = line_col(text, a)
            raise ValueError(f'{path}:{l}:{c}: // comment holds "*/", "/*" or a line continuation')
    lines = text.split('\n')
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln) + 1)
    by_line = {}
    for a, b in comments:
        l = text.count('\n', 0, a)
        by_line[l] = a - starts[l]
    out = []
    k = 0
    while k < len(lines):
        ln = lines[k]
        if k not in by_line:
            out.append(ln)
            k += 1
            continue
        col = by_line[k]
        head = ln[:col]
        if head.strip():  # a trailing comment after code
            text_ = body(ln[col:])
            out.append(f'{head}/* {text_} */' if text_ else head.rstrip())
            k += 1
            continue
        # A run of whole-line comments at the same indentation.
        run = []
        while k < len(lines) and k in by_line and by_line[k] == col and not lines[k][:col].strip():
            run.append(body(lines[k][col:]))
            k += 1
        while run and not run[-1]:
            run.pop()
        if not run:
            continue
        if len(run) == 1:
            out.append(f'{head}/* {run[0]} */')
            continue
        out.append(f'{head}/* {run[0]}'.rstrip())
        for r in run[1:-1]:
            out.append(f'{head} * {r}'.rstrip())
        out.append(f'{head} * {run[-1]} */')
    return '\n'.join(out)


CPP_HEADER = re.compile(r'\bnamespace\b|\bstd::|\btemplate\s*<')


def is_c(path, text):
    return path.endswith('.c') or (path.endswith('.h') and not CPP_HEADER.search(text))


def main(argv):
    if len(argv) < 2 or argv[0] not in ('--check', '--fix'):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    mode, paths = argv[0], argv[1:]
    bad = 0
    for path in paths:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        if not is_c(path, text):
            continue
        if mode == '--check':
            for a, _ in find_line_comments(text):
                l, c = line_col(text, a)
                print(f'{path}:{l}:{c}: // comment in a C file (the house style is /* */)')
                bad += 1
        else:
            try:
                new = fix(path, text)
            except ValueError as e:
                print(e, file=sys.stderr)
                bad += 1
                continue
            if new != text:
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(new)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
