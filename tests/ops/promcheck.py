#!/usr/bin/env python3
"""A strict checker of the Prometheus text exposition format (0.0.4), for
strata's metrics where promtool is not installed.

    promcheck.py [--prefix strata_] FILE|-      exit 0 when valid
    promcheck.py --self-test                    checks the checker

It enforces what the node_exporter textfile collector and promtool care
about: metric and label name syntax, label-value escapes (only \\\\, \\" and
\\n), float values (NaN and +/-Inf included), one HELP and one TYPE per
family and before its samples, the samples of a family kept together, no
duplicate series, counters named *_total, a final newline."""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)"
LABEL_VALUE = r'"((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(r"^(" + NAME + r")(\{(.*)\})? (" + VALUE + r")( -?[0-9]+)?$")
LABEL_PAIR = re.compile(r"(" + LABEL + r")=" + LABEL_VALUE)
HELP = re.compile(r"^# HELP (" + NAME + r") ((?:[^\\\n]|\\[\\n])*)$")
TYPE = re.compile(r"^# TYPE (" + NAME + r") (counter|gauge|histogram|summary|untyped)$")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def family_of(name, types):
    if name in types:
        return name
    for family, kind in types.items():
        for suffix in SUFFIXES.get(kind, ()):
            if name == family + suffix:
                return family
    return name


def parse_labels(text, where):
    labels, pos = [], 0
    while pos < len(text):
        m = LABEL_PAIR.match(text, pos)
        if not m:
            raise ValueError(f"{where}: bad label at {text[pos:]!r}")
        if m.group(1).startswith("__"):
            raise ValueError(f"{where}: reserved label name {m.group(1)}")
        labels.append(m.group(1))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise ValueError(f"{where}: expected ',' in labels at {text[pos:]!r}")
            pos += 1
    if len(set(labels)) != len(labels):
        raise ValueError(f"{where}: repeated label name")
    return tuple(sorted(labels))


def check(text, prefix=""):
    """Returns a list of problems (empty when valid)."""
    problems = []
    helps, types, finished, series = set(), {}, set(), set()
    current = None
    if text and not text.endswith("\n"):
        problems.append("no newline at the end")
    for number, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        where = f"line {number}"
        try:
            if line == "":
                continue
            if line.startswith("#"):
                m = HELP.match(line) or TYPE.match(line)
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    if not m:
                        raise ValueError(f"{where}: malformed {line[2:6]} line")
                    name = m.group(1)
                    if name in finished:
                        raise ValueError(f"{where}: {name} described again after its samples")
                    if line.startswith("# HELP"):
                        if name in helps:
                            raise ValueError(f"{where}: second HELP for {name}")
                        helps.add(name)
                    else:
                        if name in types:
                            raise ValueError(f"{where}: second TYPE for {name}")
                        types[name] = m.group(2)
                        if m.group(2) == "counter" and not name.endswith("_total"):
                            raise ValueError(f"{where}: counter {name} should end in _total")
                    if current is not None and current != name:
                        finished.add(current)
                    current = name
                continue
            m = SAMPLE.match(line)
            if not m:
                raise ValueError(f"{where}: malformed sample {line!r}")
            name = m.group(1)
            if prefix and not name.startswith(prefix):
                raise ValueError(f"{where}: {name} lacks the prefix {prefix}")
            family = family_of(name, types)
            if family in finished:
                raise ValueError(f"{where}: samples of {family} are not together")
            if family not in types:
                raise ValueError(f"{where}: {family} has no TYPE line before its samples")
            if current is not None and current != family:
                finished.add(current)
            current = family
            labels = m.group(3) or ""
            parse_labels(labels, where)
            key = (name, labels)
            if key in series:
                raise ValueError(f"{where}: duplicate series {name}{{{labels}}}")
            series.add(key)
        except ValueError as e:
            problems.append(str(e))
    return problems


GOOD = """# HELP a_seconds An offset.
# TYPE a_seconds gauge
a_seconds -0.000012
# HELP b_total Counted.\\nMore.
# TYPE b_total counter
b_total 3
# TYPE c gauge
c{name="x \\"y\\" \\\\ \\n",address="[::1]:123"} NaN
c{name="z",address="1.2.3.4:123",} +Inf
"""

BAD = {
    "no final newline": "# TYPE a gauge\na 1",
    "bad escape": '# TYPE a gauge\na{n="\\t"} 1\n',
    "raw quote": '# TYPE a gauge\na{n="""} 1\n',
    "bad value": "# TYPE a gauge\na 1,5\n",
    "bad name": "# TYPE 1a gauge\n1a 1\n",
    "no TYPE": "a 1\n",
    "TYPE after samples": "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n",
    "interleaved": "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 2\n",
    "duplicate": '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n',
    "two HELPs": "# HELP a x\n# HELP a y\n# TYPE a gauge\na 1\n",
    "counter name": "# TYPE a counter\na 1\n",
    "unknown type": "# TYPE a number\na 1\n",
    "reserved label": '# TYPE a gauge\na{__x="1"} 1\n',
    "repeated label": '# TYPE a gauge\na{x="1",x="2"} 1\n',
    "missing prefix": "# TYPE a gauge\na 1\n",
}


def self_test():
    passed = failed = 0
    cases = [("valid text", GOOD, "", True)]
    cases += [(name, text, "strata_" if name == "missing prefix" else "", False) for name, text in BAD.items()]
    for name, text, prefix, valid in cases:
        problems = check(text, prefix)
        if (not problems) == valid:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {name}: {problems or 'accepted'}")
    print(f"promcheck self-test: {passed} passed, {failed} failed")
    return failed == 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return 0 if self_test() else 1
    prefix = ""
    if len(argv) == 4 and argv[1] == "--prefix":
        prefix, argv = argv[2], [argv[0], argv[3]]
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    text = sys.stdin.read() if argv[1] == "-" else open(argv[1]).read()
    problems = check(text, prefix)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
