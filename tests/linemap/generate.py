#!/usr/bin/env python3
"""Rebuilds vectors.json (the line-mapping test vectors, see README.md) from real `git diff`
output of small git repositories made in a scratch directory.

    python3 tests/linemap/generate.py           # rewrite tests/linemap/vectors.json
    python3 tests/linemap/generate.py --check   # fail if the committed file is out of date

Each scenario commits versions of a file, takes the patches git prints between them, and states
its expectations by *text*: "the base line holding X lands on the head line holding Y, in this
state". The numbers in the vectors are found by looking those texts up in the committed files,
so they are checked against what the head commit really holds, independently of any mapper.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "vectors.json"
PATH = "app.py"


def lines(n):
    return [f"line {i:02}" for i in range(1, n + 1)]


def text(rows, newline_at_end=True):
    body = "\n".join(rows)
    return body + "\n" if newline_at_end and rows else body


def replace(rows, start, count, new):
    """rows with `count` rows from 1-based `start` replaced by `new`."""
    return rows[: start - 1] + list(new) + rows[start - 1 + count :]


def ins(rows, after, new):
    return replace(rows, after + 1, 0, new)


BASE = lines(30)


def scenario(name, about, op, versions, checks):
    """`versions`: forward/inverse {"base", "head"}, compose {"merge_base", "base", "head"};
    each a text, None (no file), or (path, text). `checks`: (base text, state, head text)."""
    return dict(name=name, about=about, op=op, versions=versions, checks=checks)


U, C, D, FD = "unchanged", "changed", "deleted", "file_deleted"
SCENARIOS = [
    scenario("insertion_above", "two lines inserted above the line shift it down by two",
             "forward", {"base": text(BASE), "head": text(ins(BASE, 4, ["new a", "new b"]))},
             [("line 10", U, "line 10"), ("line 03", U, "line 03"), ("line 30", U, "line 30")]),
    scenario("insertion_only_hunk", "lines inserted after line 5: git's -U0 header is "
             "`@@ -5,0 +6,2 @@`, which leaves line 5 in place",
             "forward", {"base": text(BASE), "head": text(ins(BASE, 5, ["new a", "new b"]))},
             [("line 05", U, "line 05"), ("line 06", U, "line 06")]),
    scenario("edited_line", "the line itself was edited",
             "forward", {"base": text(BASE), "head": text(replace(BASE, 10, 1, ["line 10 fixed"]))},
             [("line 10", C, "line 10 fixed"), ("line 09", U, "line 09"), ("line 11", U, "line 11")]),
    scenario("edited_line_grows", "one line became three: the first of them is the edited line",
             "forward", {"base": text(BASE), "head": text(replace(BASE, 10, 1, ["ten a", "ten b", "ten c"]))},
             [("line 10", C, "ten a"), ("line 11", U, "line 11")]),
    scenario("edited_lines_shrink", "three lines became one: each maps to it",
             "forward", {"base": text(BASE), "head": text(replace(BASE, 10, 3, ["ten to twelve"]))},
             [("line 10", C, "ten to twelve"), ("line 12", C, "ten to twelve"), ("line 13", U, "line 13")]),
    scenario("deleted_line", "the line was deleted: the nearest surviving line is the one above",
             "forward", {"base": text(BASE), "head": text(replace(BASE, 10, 1, []))},
             [("line 10", D, "line 09"), ("line 11", U, "line 11")]),
    scenario("deletion_ending_a_hunk", "an edit, context, then the last three lines deleted: "
             "the -U3 hunk ends with removals and nothing added",
             "forward", {"base": text(BASE), "head": text(replace(BASE, 24, 7, ["line 24 fixed"] + BASE[24:27]))},
             [("line 29", D, "line 27"), ("line 24", C, "line 24 fixed"), ("line 26", U, "line 26")]),
    scenario("deletion_at_the_top", "the first two lines deleted: nothing survives above, so line 1",
             "forward", {"base": text(BASE), "head": text(BASE[2:])},
             [("line 01", D, "line 03"), ("line 03", U, "line 03")]),
    scenario("line_after_the_last_hunk", "three lines inserted and one deleted above the line",
             "forward", {"base": text(BASE), "head": text(replace(ins(BASE, 5, ["a", "b", "c"]), 15, 1, []))},
             [("line 28", U, "line 28"), ("line 12", D, "line 11")]),
    scenario("between_hunks", "an unchanged region between two -U3 hunks moves by the first only",
             "forward", {"base": text(lines(40)),
                         "head": text(replace(ins(lines(40), 3, ["a", "b"]), 37, 1, ["line 35 fixed"]))},
             [("line 20", U, "line 20"), ("line 35", C, "line 35 fixed"), ("line 36", U, "line 36")]),
    scenario("context_inside_a_hunk", "edits four lines apart share one -U3 hunk; the lines "
             "between are context inside it",
             "forward", {"base": text(BASE),
                         "head": text(replace(replace(BASE, 14, 1, ["line 14 fixed"]), 10, 1, ["ten a", "ten b"]))},
             [("line 12", U, "line 12"), ("line 14", C, "line 14 fixed"), ("line 15", U, "line 15")]),
    scenario("several_hunks", "an insertion, a deletion, an edit and an insertion in one file",
             "forward", {"base": text(lines(60)),
                         "head": text(ins(replace(replace(ins(lines(60), 5, ["a", "b"]), 22, 1, []),
                                                  41, 1, ["line 40 fixed"]), 55, ["z"]))},
             [("line 03", U, "line 03"), ("line 10", U, "line 10"), ("line 20", D, "line 19"),
              ("line 30", U, "line 30"), ("line 40", C, "line 40 fixed"), ("line 54", U, "line 54"),
              ("line 55", U, "line 55"), ("line 60", U, "line 60")]),
    scenario("no_newline_appended", "the file had no newline at its end and a line was appended: "
             "git shows the last line removed and added back; its text is the same, so unchanged",
             "forward", {"base": text(lines(10), newline_at_end=False), "head": text(lines(11))},
             [("line 10", U, "line 10"), ("line 05", U, "line 05")]),
    scenario("no_newline_edited", "the last line, without a newline, was edited",
             "forward", {"base": text(lines(10), newline_at_end=False),
                         "head": text(replace(lines(10), 10, 1, ["line 10 fixed"]), newline_at_end=False)},
             [("line 10", C, "line 10 fixed"), ("line 09", U, "line 09")]),
    scenario("renamed_and_edited", "the file moved to src/app.py and gained a line at the top: "
             "the patch maps the lines, the caller reports the new path",
             "forward", {"base": text(BASE), "head": ("src/app.py", text(["import os"] + BASE))},
             [("line 10", U, "line 10")]),
    scenario("file_removed", "the file was deleted",
             "forward", {"base": text(BASE), "head": None},
             [("line 10", FD, None)]),
    scenario("behind", "the head is an ancestor of the base: the patch is head -> base, inverted; "
             "a line the base added is gone at the head",
             "inverse", {"head": text(BASE),
                         "base": text(replace(ins(BASE, 4, ["new a", "new b"]), 17, 1, ["line 15 fixed"]))},
             [("line 10", U, "line 10"), ("new b", D, "line 04"), ("line 15 fixed", C, "line 15"),
              ("line 30", U, "line 30")]),
    scenario("behind_file_added", "the head is an ancestor of the base, which added the file",
             "inverse", {"head": None, "base": text(BASE)},
             [("line 10", FD, None)]),
    scenario("diverged", "base and head branched from a merge base: base -> merge base is the "
             "inverse of `git diff head...base`, then merge base -> head is `git diff base...head`",
             "compose", {"merge_base": text(lines(40)),
                         "base": text(replace(ins(lines(40), 0, ["b1", "b2", "b3"]), 23, 1, ["line 20 base"])),
                         "head": text(ins(replace(replace(lines(40), 25, 1, ["line 25 head"]), 8, 1, []),
                                          29, ["h1", "h2"]))},
             [("line 10", U, "line 10"), ("line 20 base", C, "line 20"), ("b2", D, "line 01"),
              ("line 25", C, "line 25 head"), ("line 08", D, "line 07"), ("line 35", U, "line 35")]),
]


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True, env=GIT_ENV).stdout


GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "cairn", "GIT_AUTHOR_EMAIL": "cairn@example.com",
    "GIT_COMMITTER_NAME": "cairn", "GIT_COMMITTER_EMAIL": "cairn@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "LC_ALL": "C",
}
DIFF = ["diff", "--no-color", "--no-ext-diff", "--find-renames"]


def commit(repo, version, message):
    """Makes the tree hold exactly `version` (None, text or (path, text)); returns the path."""
    for old in git(repo, "ls-files").split():
        (repo / old).unlink()
    path = None
    if version is not None:
        path, body = version if isinstance(version, tuple) else (PATH, version)
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(body.encode())
    (repo / "README").write_text(message + "\n")  # no commit is ever empty
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return path


def file_patch(repo, revs, context):
    """(status, patch) of the scenario's file between `revs`, as GitHub lists it (context 3,
    hunks only) or as `git diff -U0` prints it (context 0, with git's headers)."""
    status = git(repo, *DIFF, "--name-status", *revs, "--", ".", ":!README").split("\t")[0]
    out = git(repo, *DIFF, f"-U{context}", *revs, "--", ".", ":!README")
    if context == 3:
        out = out[out.index("@@"):].rstrip("\n") if "@@" in out else ""
    names = {"M": "modified", "A": "added", "D": "removed", "R": "renamed"}
    return {"status": names[status[:1]], "patch": out}


def unique_line(body, wanted, where):
    rows = body.split("\n") if body else []
    if body.endswith("\n"):
        rows.pop()
    found = [i + 1 for i, row in enumerate(rows) if row == wanted]
    assert len(found) == 1, f"{where}: {wanted!r} found {len(found)} times"
    return found[0]


def body_of(version):
    return version[1] if isinstance(version, tuple) else version


def build(s, tmp):
    repo = Path(tempfile.mkdtemp(dir=tmp, prefix=s["name"] + "-"))
    git(repo, "init", "-q", "-b", "main")
    v = s["versions"]
    if s["op"] == "forward":
        base_path = commit(repo, v["base"], "base")
        head_path = commit(repo, v["head"], "head")
        revs = [["HEAD~1", "HEAD"]]
    elif s["op"] == "inverse":
        head_path = commit(repo, v["head"], "head")
        base_path = commit(repo, v["base"], "base")
        revs = [["HEAD~1", "HEAD"]]
    else:
        commit(repo, v["merge_base"], "merge base")
        git(repo, "branch", "side")
        base_path = commit(repo, v["base"], "base")
        git(repo, "checkout", "-q", "side")
        head_path = commit(repo, v["head"], "head")
        revs = [["side...main"], ["main...side"]]

    checks = []
    for base_text, state, head_text in s["checks"]:
        where = f"{s['name']}: {base_text!r}"
        line = unique_line(body_of(v["base"]), base_text, where + " at base")
        expected = {"line": None, "state": state, "text": head_text}
        if state == FD:
            assert v["head"] is None, where
        else:
            expected["line"] = unique_line(body_of(v["head"]), head_text, where + " at head")
            gone = base_text not in body_of(v["head"]).split("\n")
            assert (state == U) == (head_text == base_text) and (state == U) != gone, where
        checks.append({"line": line, "text": base_text, "expected": expected})

    cases = []
    for source, context in (("github", 3), ("git_u0", 0)):
        cases.append({
            "name": f"{s['name']}/{source}",
            "about": s["about"],
            "op": s["op"],
            "source": source,
            "path": base_path,
            "head_path": head_path,
            "patches": [file_patch(repo, r, context) for r in revs],
            "checks": checks,
        })
    return cases


ABOUT = [
    "Line-mapping test vectors for cairn's shared/src/linemap and its ports; see README.md.",
    "Generated by tests/linemap/generate.py from real `git diff` output: do not edit by hand.",
]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cases = [case for s in SCENARIOS for case in build(s, tmp)]
    doc = json.dumps({"about": ABOUT, "cases": cases}, indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        if OUT.read_text() != doc:
            sys.exit(f"{OUT} is out of date: run {sys.argv[0]}")
        return
    OUT.write_text(doc)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
