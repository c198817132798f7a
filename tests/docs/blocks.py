#!/usr/bin/env python3
"""Check the fenced code blocks of the documentation (make docs-check).

Every fenced block of README.md, CONTRIBUTING.md, docs/*.md and
examples/**/*.md is taken by its language tag (the first word after the
fence):

  ini                 build/hostshim --check FILE must exit 0. As root, in a
                      private mount namespace whose /etc/hosts names every
                      target host of the block, so that exit 0 also means
                      every target resolved. Not root: 3 (a target does not
                      resolve) is accepted too, and said.
  ini bad             a configuration shown because it is wrong: --check
                      must fail with a FILE:LINE error of the block.
  yaml, yml           with a top-level `services:` key, a compose file:
                      `docker-compose -f FILE config -q` in a directory of
                      its own; other YAML is parsed with PyYAML if present.
  sh, bash, shell,    `sh -n` / `bash -n`. A block whose lines start with
  console             `$ ` is a transcript: only its commands are checked.
  dockerfile          every line an instruction, a comment or a continuation;
                      JSON forms parse. Written to build/docs-blocks/ for
                      the Docker leg: NAME.Dockerfile when the block starts
                      with FROM (a whole Dockerfile), NAME.fragment
                      otherwise; build/docs-blocks/dockerfiles.tsv lists
                      them: name, FILE:LINE, dockerfile or fragment, and
                      what the block COPYs from the build context.

Any other tag (js, text, none) is not checked. A block tagged `... skip`
is not checked either. Each checked block is reported with FILE:LINE, then
`N passed, N failed`; any failure exits 1.

  python3 tests/docs/blocks.py [-v] [FILE.md ...]
  python3 tests/docs/blocks.py --expect-fail tests/docs/wrong.md
      the checker's own test: every block there is wrong, each must fail.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "build", "docs-blocks")
LAUNCHER = os.path.join(ROOT, "build", "hostshim")

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")


def doc_files():
    pats = ["README.md", "CONTRIBUTING.md", "docs/*.md", "examples/**/*.md"]
    files = []
    for p in pats:
        for f in sorted(glob.glob(os.path.join(ROOT, p), recursive=True)):
            rel = os.path.relpath(f, ROOT)
            if "node_modules" in rel.split(os.sep) or rel in files:
                continue
            files.append(rel)
    return files


def blocks(path):
    """(line of the opening fence, info words, text) for each fenced block."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m.group(1)), m.group(2), m.group(3).strip()
        start = i + 1
        body = []
        i += 1
        while i < len(lines):
            c = re.match(r"^ {0,3}(" + re.escape(fence[0]) + "{%d,})\\s*$" % len(fence), lines[i])
            if c:
                break
            # Content is de-indented by the fence's indentation (CommonMark).
            ln = lines[i]
            body.append(ln[min(indent, len(ln) - len(ln.lstrip(" "))):])
            i += 1
        i += 1
        yield start, info.split(), "\n".join(body) + "\n"


class Result:
    def __init__(self, expect_fail=False):
        self.passed = 0
        self.failed = 0
        self.skipped = {}
        self.expect_fail = expect_fail

    def ok(self, where, what, verbose, note=""):
        self.passed += 1
        if self.expect_fail:
            print("FAIL %s: %s passes, but the block is wrong on purpose" % (where, what))
        elif verbose or note:
            print("ok   %s: %s%s" % (where, what, (" (" + note + ")") if note else ""))

    def fail(self, where, what, detail):
        self.failed += 1
        if self.expect_fail:
            lines = [ln.strip() for ln in detail.split("\n") if ln.strip()]
            why = ([ln for ln in lines if ln.startswith("hostshim:")]
                   or ([what] if what.startswith("ini") else [])
                   or [ln for ln in lines if ln != "^"][-1:] or [what])
            print("ok   %s: fails as it must: %s" % (where, why[0]))
            return
        print("FAIL %s: %s" % (where, what))
        for ln in detail.rstrip().split("\n"):
            print("       " + ln)

    def skip(self, tag):
        self.skipped[tag] = self.skipped.get(tag, 0) + 1


def slug(path, line):
    return re.sub(r"[^A-Za-z0-9.]+", "_", path) + "_" + str(line)


def write_block(name, text, mode=0o644):
    """A file under build/docs-blocks/, in a directory that passes the
    library's trust check as root (not writable by group or others)."""
    os.makedirs(OUT, exist_ok=True)
    os.chmod(OUT, 0o755)
    p = os.path.join(OUT, name)
    with open(p, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(p, mode)
    return p


# ---- ini ----

def ini_targets(text):
    """Host names used as targets in the [map] section (not literals)."""
    names = set()
    section = ""
    for raw in text.split("\n"):
        s = raw.strip()
        if not s or s[0] in ";#":
            continue
        if s.startswith("[") and "=" not in s:
            section = s[1:].split("]", 1)[0].strip().lower()
            continue
        if section != "map" or "=" not in s:
            continue
        val = re.split(r"\s[;#]", s.split("=", 1)[1])[0].strip()
        if not val or val.startswith("["):
            continue
        host = val.rsplit(":", 1)[0] if re.search(r":\d*$", val) else val
        if re.fullmatch(r"[0-9.]+", host) or not re.fullmatch(r"[A-Za-z0-9_.-]+", host):
            continue
        names.add(host.rstrip("."))
    return sorted(names)


def check_ini(res, where, words, text, verbose):
    if not os.access(LAUNCHER, os.X_OK):
        res.fail(where, "ini", "%s missing: run make first" % LAUNCHER)
        return
    bad = "bad" in words[1:]
    f = write_block(slug(*where.rsplit(":", 1)) + ".ini", text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTSHIM_")}
    cmd = [LAUNCHER, "--check", f]
    resolved = False
    if os.geteuid() == 0 and shutil.which("unshare"):
        with open("/etc/hosts", encoding="utf-8", errors="replace") as h:
            hosts = h.read()
        names = ini_targets(text)
        if names:
            hosts += "\n10.213.250.1 %s\n" % " ".join(names)
        hp = write_block(slug(*where.rsplit(":", 1)) + ".hosts", hosts)
        cmd = ["unshare", "-m", "sh", "-c",
               'mount --bind "$1" /etc/hosts && shift && exec "$@"', "sh", hp] + cmd
        resolved = True
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=60)
    out = p.stdout
    if bad:
        # Wrong as shown: --check fails and names a line of the block.
        if p.returncode not in (0, 3) and re.search(re.escape(f) + r":\d+: ", out):
            res.ok(where, "ini bad: --check exits %d with FILE:LINE errors, as it must" % p.returncode, verbose)
        else:
            res.fail(where, "ini bad: --check exited %d with no FILE:LINE error (the block is marked bad)"
                     % p.returncode, out)
    elif p.returncode == 0:
        res.ok(where, "ini: --check exits 0", verbose)
    elif p.returncode == 3 and not resolved:
        res.ok(where, "ini: --check exits 3", verbose, "a target does not resolve here; run as root to check them")
    else:
        res.fail(where, "ini: --check %s exited %d" % (f, p.returncode), out)


# ---- yaml ----

def check_yaml(res, where, words, text, verbose):
    try:
        import yaml
    except ImportError:
        yaml = None
    is_compose = re.search(r"^services\s*:", text, re.M) is not None
    if yaml is not None:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            res.fail(where, "yaml: does not parse", str(e))
            return
        is_compose = isinstance(doc, dict) and "services" in doc
    if not is_compose:
        if yaml is None:
            res.ok(where, "yaml", verbose, "not checked: no PyYAML (python3-yaml)")
        else:
            res.ok(where, "yaml: parses", verbose)
        return
    dc = shutil.which("docker-compose")
    if not dc:
        res.fail(where, "compose", "docker-compose not installed (bash .ci/install-deps)")
        return
    d = os.path.join(OUT, slug(*where.rsplit(":", 1)) + ".compose")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "docker-compose.yml"), "w", encoding="utf-8") as f:
        f.write(text)
    env = dict(os.environ)
    env.pop("COMPOSE_FILE", None)
    env.pop("COMPOSE_PROJECT_NAME", None)
    p = subprocess.run([dc, "-f", "docker-compose.yml", "config", "-q"], cwd=d, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=120)
    if p.returncode == 0:
        res.ok(where, "compose: docker-compose config -q", verbose)
    else:
        res.fail(where, "compose: docker-compose config -q exited %d" % p.returncode, p.stdout)


# ---- shell ----

def transcript_commands(text):
    """The commands of a `$ command` transcript; output lines dropped."""
    cmds = []
    cont = False
    for ln in text.split("\n"):
        if cont:
            cmds.append(ln)
        elif ln.startswith("$ "):
            cmds.append(ln[2:])
        else:
            continue
        cont = ln.endswith("\\")
    return "\n".join(cmds) + "\n"


def check_shell(res, where, words, text, verbose):
    tag = words[0].lower()
    script = text
    note = ""
    if tag == "console" or re.search(r"^\$ ", text, re.M):
        script = transcript_commands(text)
        note = "transcript: its commands"
    shell = "bash" if tag == "bash" else "sh"
    p = subprocess.run([shell, "-n"], input=script, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=30)
    if p.returncode == 0:
        res.ok(where, "%s -n" % shell, verbose, note if verbose else "")
    else:
        res.fail(where, "%s -n exited %d" % (shell, p.returncode), p.stdout)


# ---- Dockerfile ----

INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
                "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
                "HEALTHCHECK", "SHELL"}


def dockerfile_problems(text):
    problems = []
    first = None
    cont = False
    heredoc = None
    for n, ln in enumerate(text.split("\n"), 1):
        s = ln.strip()
        if heredoc is not None:
            if s == heredoc:
                heredoc = None
            continue
        if not s or s.startswith("#"):
            continue  # comments may sit inside a continuation too
        if cont:
            cont = s.endswith("\\")
            continue
        word = s.split(None, 1)[0]
        if word.upper() not in INSTRUCTIONS:
            problems.append("line %d: '%s' is not a Dockerfile instruction" % (n, word))
            continue
        if first is None and word.upper() != "ARG":
            first = word.upper()
        rest = s[len(word):].strip()
        if not rest:
            problems.append("line %d: %s with no arguments" % (n, word))
        if word.upper() in ("CMD", "ENTRYPOINT", "RUN", "SHELL", "VOLUME") and rest.startswith("["):
            try:
                v = json.loads(rest)
                if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                    raise ValueError("not a list of strings")
            except ValueError as e:
                problems.append("line %d: %s JSON form: %s" % (n, word, e))
        if word.upper() == "COPY" and "--from=" in rest:
            if len([a for a in rest.split() if not a.startswith("--")]) < 2:
                problems.append("line %d: COPY needs a source and a destination" % n)
        h = re.search(r"<<-?[\"']?(\w+)", rest) if word.upper() in ("RUN", "COPY") else None
        if h:
            heredoc = h.group(1)
        cont = s.endswith("\\")
    if cont:
        problems.append("the last line ends with a continuation")
    if heredoc is not None:
        problems.append("here-document %s not closed" % heredoc)
    return problems, first == "FROM"


def context_files(text):
    """What COPY/ADD take from the build context (not from a stage)."""
    srcs = []
    for ln in re.sub(r"\\\n", " ", text).split("\n"):
        w = ln.split()
        if len(w) > 2 and w[0].upper() in ("COPY", "ADD") and not any(a.startswith("--from=") for a in w):
            srcs += [a for a in w[1:-1] if not a.startswith("--")]
    return " ".join(srcs) or "-"


def check_dockerfile(res, where, words, text, verbose, index):
    problems, whole = dockerfile_problems(text)
    name = slug(*where.rsplit(":", 1)) + (".Dockerfile" if whole else ".fragment")
    write_block(name, "# %s\n%s" % (where, text))
    index.append("%s\t%s\t%s\t%s\n" % (name, where, "dockerfile" if whole else "fragment",
                                       context_files(text)))
    if problems:
        res.fail(where, "Dockerfile syntax", "\n".join(problems))
    else:
        res.ok(where, "Dockerfile syntax", verbose,
               "" if not verbose else ("whole Dockerfile" if whole else "fragment") + ": build/docs-blocks/" + name)


def main(argv):
    verbose = "-v" in argv
    expect_fail = "--expect-fail" in argv
    files = [a for a in argv if a not in ("-v", "--expect-fail")] or doc_files()
    res = Result(expect_fail)
    index = []
    if not expect_fail:
        shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT, exist_ok=True)
    for path in files:
        for line, words, text in blocks(path):
            where = "%s:%d" % (path, line)
            tag = words[0].lower() if words else ""
            if "skip" in words[1:]:
                res.skip(tag + " skip")
                continue
            if tag == "ini":
                check_ini(res, where, words, text, verbose)
            elif tag in ("yaml", "yml"):
                check_yaml(res, where, words, text, verbose)
            elif tag in ("sh", "bash", "shell", "console"):
                check_shell(res, where, words, text, verbose)
            elif tag == "dockerfile":
                check_dockerfile(res, where, words, text, verbose, index)
            else:
                res.skip(tag or "(no tag)")
    if expect_fail:
        # The checker's own test: every block of FILE is wrong on purpose.
        print("docs blocks, each wrong on purpose: %d failed as they must, %d passed"
              % (res.failed, res.passed))
        return 0 if res.failed and not res.passed else 1
    with open(os.path.join(OUT, "dockerfiles.tsv"), "w", encoding="utf-8") as f:
        f.writelines(index)
    skipped = ", ".join("%d %s" % (n, t) for t, n in sorted(res.skipped.items()))
    print("docs blocks: %d passed, %d failed%s" % (
        res.passed, res.failed, ("; not checked: " + skipped) if skipped else ""))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
