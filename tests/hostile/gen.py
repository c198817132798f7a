"""Writes the hostile cases too big to commit, with their expectations,
into the directory given: a 1 MB line, 100,000 rules, 100,000 errors,
100,000 duplicates, a 4,000-item HOSTSHIM_MAP. Used by run.sh."""
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def lines(*ls):
    return "".join(l + "\n" for l in ls)


def check_line(public, target, origin, host, addr):
    return "%s -> %s (%s) %s = %s" % (public, target, origin, host, addr)


MB = 1 << 20

# A 1 MB value: the line is refused, the next rule still applies.
value = "x" * MB
line2 = "auth.localhost = " + value
write("line-1mb.ini", lines("[map]", line2, "ok.localhost = 127.0.0.1:9000"))
write("line-1mb.expect", lines(
    "hostshim: line-1mb.ini:2: line too long (%d bytes, the limit is 1024)" % len(line2)))
write("line-1mb.rules", lines(
    check_line("ok.localhost", "127.0.0.1:9000", "line-1mb.ini:3", "127.0.0.1", "127.0.0.1"),
    "1 rules, 1 errors"))

# 1 MB without a newline, '=' or anything else, at the end of the file.
write("line-1mb-no-newline.ini", "[map]\n" + "k" * MB)
write("line-1mb-no-newline.expect", lines(
    "hostshim: line-1mb-no-newline.ini:2: line too long (%d bytes, the limit is 1024)" % MB))
write("line-1mb-no-newline.rules", lines("0 rules, 1 errors"))

# 100,000 good rules of every kind: silent, all applied.
rules, check = ["[map]"], []
for i in range(100000):
    lineno = i + 2
    port = i % 65535 + 1
    kind = i % 4
    if kind == 0:
        pub, tgt = "h%d.localhost" % i, "127.0.0.1:%d" % port
    elif kind == 1:
        pub, tgt = "h%d.localhost:%d" % (i, port), "127.0.0.5"
    elif kind == 2:
        pub, tgt = "*.w%d.localhost" % i, "[::1]:%d" % port
    else:
        pub = "127.%d.%d.%d:%d" % (i >> 16 & 255, i >> 8 & 255, i & 255, port)
        tgt = "127.0.0.6:%d" % port
    rules.append("%s = %s" % (pub, tgt))
    host = tgt.rsplit(":", 1)[0].strip("[]") if tgt.count(":") else tgt
    if tgt.startswith("["):
        host = tgt[1:tgt.index("]")]
    check.append(check_line(pub, tgt, "rules-100k.ini:%d" % lineno, host, host))
write("rules-100k.ini", lines(*rules))
write("rules-100k.expect", "")
write("rules-100k.rules", lines(*check, "100000 rules, 0 errors"))

# 100,000 bad lines: the first 100 are shown, then a count.
write("errors-100k.ini", lines("[map]", *("e%d.localhost:0 = server" % i for i in range(100000))))
write("errors-100k.expect", lines(
    *("hostshim: errors-100k.ini:%d: port 0 out of range" % (i + 2) for i in range(100)),
    "hostshim: 99900 more configuration problems not shown"))
write("errors-100k.rules", lines("0 rules, 100000 errors"))

# The same key 100,000 times: the first applies, the rest are duplicates.
write("dups-100k.ini", lines("[map]", *("dup.localhost = 127.0.0.1:%d" % (i % 65535 + 1) for i in range(100000))))
write("dups-100k.expect", lines(
    *("hostshim: dups-100k.ini:%d: duplicate rule for dup.localhost (first at dups-100k.ini:2)" % (i + 3)
      for i in range(100)),
    "hostshim: 99899 more configuration problems not shown"))
write("dups-100k.rules", lines(
    check_line("dup.localhost", "127.0.0.1:1", "dups-100k.ini:2", "127.0.0.1", "127.0.0.1"),
    "1 rules, 99999 errors"))

# A HOSTSHIM_MAP of 4,000 items (about 121 kB: an environment string can't
# be longer than 128 kB on Linux).
items = ["m%d.localhost=127.0.0.1:%d" % (i, i + 1) for i in range(4000)]
map_text = ",".join(items)
assert len(map_text) < 131072 - len("HOSTSHIM_MAP=")
write("map-4000.map", map_text)
write("map-4000.expect", "")
write("map-4000.rules", lines(
    *(check_line("m%d.localhost" % i, "127.0.0.1:%d" % (i + 1), "HOSTSHIM_MAP item %d" % (i + 1),
                 "127.0.0.1", "127.0.0.1") for i in range(4000)),
    "4000 rules, 0 errors"))
