#!/usr/bin/env python3
"""Tests of tools/c_comments.py: what it finds, what it leaves, what it refuses."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import c_comments  # noqa: E402


def comments(text):
    return [text[a:b] for a, b in c_comments.find_line_comments(text)]


class FindTest(unittest.TestCase):
    def test_strings_chars_and_block_comments_are_not_comments(self):
        text = ('const char *u = "http://x"; /* a // b */\n'
                "char c = '/'; char d = '\\''; const char *e = \"\\\"//\";\n")
        self.assertEqual(comments(text), [])

    def test_finds_whole_line_and_trailing_comments(self):
        text = '// one\nint x;  // two\n'
        self.assertEqual(comments(text), ['// one', '// two'])

    def test_a_line_continuation_extends_the_comment(self):
        self.assertEqual(comments('// a \\\nb\nint x;\n'), ['// a \\\nb'])


class FixTest(unittest.TestCase):
    def test_a_run_of_lines_becomes_one_block(self):
        text = '  // first\n  //\n  // last\nint x;  // trailing\n'
        self.assertEqual(c_comments.fix('f.c', text),
                         '  /* first\n   *\n   * last */\nint x;  /* trailing */\n')

    def test_runs_at_different_indentation_stay_apart(self):
        text = '// a\n  // b\n'
        self.assertEqual(c_comments.fix('f.c', text), '/* a */\n  /* b */\n')

    def test_refuses_a_comment_that_would_end_the_block(self):
        with self.assertRaisesRegex(ValueError, r'f\.c:2:8:'):
            c_comments.fix('f.c', 'int x;\nint y; // a */ b\n')

    def test_cpp_headers_are_left_alone(self):
        self.assertFalse(c_comments.is_c('t.h', 'namespace x {}\n'))
        self.assertFalse(c_comments.is_c('t.h', 'std::string f();\n'))
        self.assertTrue(c_comments.is_c('t.h', 'int f(void);\n'))
        self.assertTrue(c_comments.is_c('t.c', 'namespace\n'))
        self.assertFalse(c_comments.is_c('t.cc', 'int f(void);\n'))


if __name__ == '__main__':
    unittest.main()
