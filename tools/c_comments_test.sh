#!/bin/sh
exec python3 tools/c_comments_test.py
