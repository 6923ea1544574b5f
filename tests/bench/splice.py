#!/usr/bin/python3
"""splice: puts measured tables into a Markdown file between its markers.

  splice.py FILE KEY=PART.md...

replaces what stands between "<!-- bench:KEY -->" and "<!-- /bench:KEY -->" in FILE with
the contents of PART.md, for every KEY given; the rest of FILE is left as it is. Exits 1,
changing nothing, when a marker pair is missing. Writes FILE atomically.
"""
import os
import sys


def splice(text, key, part):
    start, end = "<!-- bench:%s -->" % key, "<!-- /bench:%s -->" % key
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise KeyError("no %s ... %s pair" % (start, end))
    return text[: i + len(start)] + "\n" + part.strip("\n") + "\n" + text[j:]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path = sys.argv[1]
    with open(path) as f:
        text = f.read()
    try:
        for arg in sys.argv[2:]:
            key, _, part_path = arg.partition("=")
            with open(part_path) as f:
                text = splice(text, key, f.read())
    except (KeyError, OSError) as e:
        sys.exit("splice: %s: %s" % (path, e))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
