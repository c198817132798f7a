#!/usr/bin/env python3
"""hostshim benchmarks: what the library costs the processes it is loaded in.

usage: python3 bench/run.py [--quick] [--only SECTION,...] [--reps N]

Sections (all by default):
  micro    one call in a loop (bench/micro.c): instructions per call, counted
           by valgrind's callgrind (repeatable), and ns per call (the
           thread's CPU time and the wall clock, medians of interleaved
           repetitions)
  threads  the same loops in 1 and 8 threads: throughput, and the futex(2)
           calls strace counts (a contended lock makes thousands)
  startup  /bin/true with the library and 0, 1, 10,000, 100,000 rules
  node     Node.js fetch through a mapped name against a local server,
           compared with `localhost` without the library

Every section runs each variant side by side, interleaved: no preload, the
forward-only floor library (bench/floor.c), libhostshim, and, when
installed, proxychains4 and nss_wrapper. Everything runs in a network
namespace of its own with only `lo` up and its own /etc/hosts, resolv.conf
(a name server on 127.0.0.1 that does not exist) and nsswitch.conf, so no
lookup leaves the machine. Every process has a time limit; the namespace,
its /etc/netns entry and every process started here are removed on every
way out, Ctrl-C included.

HOSTSHIM_BENCH_LIB=PATH measures another build of the library (say, one with
a change under test) in place of build/libhostshim.so.

Needs root (ip netns) and valgrind; uses strace, node, proxychains4 and
nss_wrapper when installed. Results: the tables on stdout, and in build/bench/:
results.md, results.json, callgrind/*.out with callgrind_annotate excerpts.
--quick (make bench-quick) is a smoke run for CI: fewer repetitions and
iterations, no peers' callgrind counts, no judgement of the targets.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, 'build', 'bench')
LIB = os.environ.get('HOSTSHIM_BENCH_LIB') or os.path.join(ROOT, 'build',
                                                         'libhostshim.so')
LIB_NAME = (os.path.relpath(LIB, ROOT) if LIB.startswith(ROOT + os.sep)
            else LIB)
FLOOR = os.path.join(BUILD, 'libfloor.so')
MICRO = os.path.join(BUILD, 'micro')
SPAWN = os.path.join(BUILD, 'spawn')
LIBDIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu',
           '/usr/lib64', '/usr/lib']
PROXYCHAINS = next((os.path.join(d, 'libproxychains.so.4') for d in LIBDIRS
                    if os.path.exists(os.path.join(d, 'libproxychains.so.4'))),
                   None)
NSS_WRAPPER = next((os.path.join(d, 'libnss_wrapper.so') for d in LIBDIRS
                    if os.path.exists(os.path.join(d, 'libnss_wrapper.so'))),
                   None)

TCP_PORT, UDP_PORT, HTTP_PORT = 9000, 9001, 9100
NS_PREFIX = 'hsbench-'

# The namespace's /etc/hosts. Mapped names are in it too, so that without
# the library they resolve the way Docker's extra_hosts would make them
# (an address, no port): the baseline for a mapped lookup.
HOSTS = f"""127.0.0.1 localhost
::1 localhost
127.0.0.1 server
10.1.2.3 unmapped.bench.test
127.0.0.1 api.bench.localhost
127.0.0.1 auth.bench.localhost
127.0.0.1 udp.bench.localhost
127.0.0.1 x.wild.bench.localhost
127.0.0.1 other.bench.localhost
127.0.0.1 x.api.bench.localhost
"""

BASE_RULES = f"""api.bench.localhost = 127.0.0.1:{TCP_PORT}
auth.bench.localhost = server:{TCP_PORT}
udp.bench.localhost = 127.0.0.1:{UDP_PORT}
*.wild.bench.localhost = server:{TCP_PORT}
"""


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


T0 = time.time()


def log(msg):
    print(f'[{time.time() - T0:5.0f} s] {msg}', file=sys.stderr, flush=True)


def peer_run(variant, what, fn):
    """fn(), but a peer preload that fails or hangs only loses its cell."""
    if variant not in ('proxychains4', 'nss_wrapper'):
        return fn()
    try:
        return fn()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        log(f'bench: {variant}: {what}: {str(e).splitlines()[0][:200]}')
        return None


# ---- processes ------------------------------------------------------------

def run(cmd, env=None, timeout=60, check=True):
    """Runs cmd in a session of its own, killed (the whole group) when it
    overruns or when we are interrupted. Returns (rc, stdout, stderr)."""
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        kill_group(p)
        raise
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n"
                           f"{out[-2000:]}{err[-2000:]}")
    return p.returncode, out, err


def kill_group(p, grace=0.0):
    if p.poll() is not None:
        return
    try:
        if grace:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                pass
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if k != 'LD_PRELOAD' and not k.startswith(
               ('HOSTSHIM_', 'PROXYCHAINS_', 'NSS_WRAPPER_', 'NODE_OPTIONS'))}
    env['LC_ALL'] = 'C'
    return env


# ---- the namespace (outer process) ----------------------------------------

def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_namespace(ns):
    subprocess.run(['ip', 'netns', 'del', ns], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)
    shutil.rmtree(f'/etc/netns/{ns}', ignore_errors=True)


def remove_stale_namespaces():
    """Namespaces of earlier runs whose process is gone (killed hard)."""
    out = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                         text=True, timeout=30).stdout
    names = set(re.findall(rf'^({NS_PREFIX}(\d+))\b', out, re.M))
    if os.path.isdir('/etc/netns'):
        names |= {(n, n[len(NS_PREFIX):]) for n in os.listdir('/etc/netns')
                  if re.fullmatch(rf'{NS_PREFIX}\d+', n)}
    for ns, pid in names:
        if not pid_alive(int(pid)):
            log(f'bench: removing namespace {ns} left by a dead run')
            remove_namespace(ns)


def outer(args, argv):
    if os.geteuid() != 0:
        sys.exit('bench: needs root: each run makes a network namespace')
    if not shutil.which('ip'):
        sys.exit('bench: needs ip(8) (iproute2)')
    for f in (LIB, FLOOR, MICRO, SPAWN):
        if not os.path.exists(f):
            sys.exit(f'bench: {f} is missing: run `make bench` (or make)')
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    remove_stale_namespaces()
    ns = f'{NS_PREFIX}{os.getpid()}'
    etc = f'/etc/netns/{ns}'
    inner = None
    rc = 1
    limit = 600 if args.quick else 3600
    try:
        os.makedirs(etc)
        with open(f'{etc}/hosts', 'w') as f:
            f.write(HOSTS)
        with open(f'{etc}/resolv.conf', 'w') as f:
            f.write('nameserver 127.0.0.1\noptions timeout:1 attempts:1\n')
        with open(f'{etc}/nsswitch.conf', 'w') as f:
            f.write('hosts: files dns\n')
        if os.path.exists('/etc/hostshim'):
            os.makedirs(f'{etc}/hostshim')  # hides the machine's config
        subprocess.run(['ip', 'netns', 'add', ns], check=True, timeout=30)
        subprocess.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'],
                       check=True, timeout=30)
        inner = subprocess.Popen(
            ['ip', 'netns', 'exec', ns, sys.executable,
             os.path.abspath(__file__), '--inner'] + argv,
            start_new_session=True)
        rc = inner.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        log(f'bench: over the time limit ({limit} s), stopped')
        rc = 124
    except (KeyboardInterrupt, Interrupted) as e:
        log(f'bench: interrupted ({str(e) or "SIGINT"}), cleaning up')
        rc = 130
    finally:
        if inner is not None:
            kill_group(inner, grace=5)
        remove_namespace(ns)
    return rc


# ---- configurations ---------------------------------------------------------

def write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return path


def many_rules(n):
    lines = [f'n{i}.many.localhost = server:{TCP_PORT}' for i in range(n)]
    lines += [f'*.w{i}.wild.localhost = server:{TCP_PORT}' for i in range(100)]
    return '\n'.join(lines) + '\n'


def make_configs(quick):
    d = os.path.join(BUILD, 'cfg')
    os.makedirs(d, exist_ok=True)
    cfg = {
        None: None,
        'one': write(f'{d}/one.ini', f'[map]\napi.bench.localhost = '
                                     f'127.0.0.1:{TCP_PORT}\n'),
        'base': write(f'{d}/base.ini', '[map]\n' + BASE_RULES),
        # An address rule, as curl and browsers need (they answer
        # *.localhost themselves): connects to other addresses pass it.
        'addr': write(f'{d}/addr.ini', f'[map]\napi.bench.localhost = '
                                       f'127.0.0.1:{TCP_PORT}\n'
                                       f'127.0.0.2:80 = 127.0.0.1:{TCP_PORT}\n'
                                       f'127.0.0.2:53 = 127.0.0.1:{UDP_PORT}\n'),
        'many10k': write(f'{d}/many10k.ini',
                         '[map]\n' + BASE_RULES + many_rules(10000)),
        'node': write(f'{d}/node.ini', f'[map]\nauth.bench.localhost = '
                                       f'server:{HTTP_PORT}\n'),
    }
    cfg['many100k'] = write(f'{d}/many100k.ini',
                            '[map]\n' + BASE_RULES + many_rules(100000))
    # proxychains: a `raw` proxy entry is the one way it can send a name
    # somewhere else; proxy_dns gives every name not in /etc/hosts an
    # address of its own; localnet keeps loopback connects direct.
    pc = ('strict_chain\nquiet_mode\nproxy_dns\nremote_dns_subnet 224\n'
          'tcp_read_time_out 15000\ntcp_connect_time_out 8000\n'
          'localnet 127.0.0.0/255.0.0.0\n[ProxyList]\n')
    cfg['pc'] = write(f'{d}/proxychains.conf', pc + f'raw 127.0.0.1 {TCP_PORT}\n')
    cfg['pc_node'] = write(f'{d}/proxychains-node.conf',
                           pc + f'raw 127.0.0.1 {HTTP_PORT}\n')
    # nss_wrapper: a hosts file of its own; names only, no ports.
    cfg['nw'] = write(f'{d}/nss_wrapper.hosts', HOSTS)
    return cfg


def variant_env(variant, cfg, key=None, node=False):
    """Every variant gets the same variables, in the same order, only the
    values differ: libc's getenv walks the environment, so one variable
    more would cost a few instructions in each lookup and be counted
    against the preload."""
    env = clean_env()
    env['LD_PRELOAD'] = {'floor': FLOOR, 'hostshim': LIB,
                         'proxychains4': PROXYCHAINS,
                         'nss_wrapper': NSS_WRAPPER}.get(variant) or ''
    # Empty is as good as unset for the library; the others ignore it.
    env['HOSTSHIM_CONFIG'] = (cfg.get(key) or '') if variant == 'hostshim' \
        else ''
    env['PROXYCHAINS_CONF_FILE'] = cfg['pc_node' if node else 'pc']
    env['PROXYCHAINS_QUIET_MODE'] = '1'
    env['NSS_WRAPPER_HOSTS'] = cfg['nw']
    return env


def peers():
    out = []
    if PROXYCHAINS:
        out.append('proxychains4')
    if NSS_WRAPPER:
        out.append('nss_wrapper')
    return out


# ---- callgrind ----------------------------------------------------------------

def callgrind_read(path):
    """The total, and the inclusive cost and count of every call made from
    the function `one` (micro.c) to each callee, by callee name."""
    names = {}
    total = None
    calls = {}
    fn = cfn = None
    pending = None

    def name_of(spec):
        m = re.match(r'\((\d+)\)(?:\s+(.*))?$', spec)
        if not m:
            return spec
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), spec)

    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            if pending is not None:
                parts = line.split()
                if len(parts) >= 2 and fn == 'one':
                    key = re.sub(r"'\d+$", '', cfn or '?')
                    c = calls.setdefault(key, [0, 0])
                    c[0] += int(parts[-1])
                    c[1] += pending
                pending = None
                continue
            if line.startswith('fn='):
                fn = name_of(line[3:])
            elif line.startswith('cfn='):
                cfn = name_of(line[4:])
            elif line.startswith('calls='):
                pending = int(line[6:].split()[0])
            elif line.startswith(('summary:', 'totals:')) and total is None:
                total = int(line.split()[1])
    return total, calls


def callgrind(name, cmd, env, timeout=300, toggle=True):
    d = os.path.join(BUILD, 'callgrind')
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, f'{name}.out')
    vg = ['valgrind', '--tool=callgrind', f'--callgrind-out-file={out}']
    if toggle:
        vg.append('--toggle-collect=bench_loop')
    run(vg + cmd, env=env, timeout=timeout)
    total, calls = callgrind_read(out)
    return out, total, calls


def annotate(out, dest):
    """callgrind_annotate's per-function figures, self and inclusive."""
    text = []
    for inclusive in ('no', 'yes'):
        rc, o, _ = run(['callgrind_annotate', f'--inclusive={inclusive}',
                        '--threshold=99.5', out], timeout=120, check=False)
        body = o.split('file:function', 1)
        rows = body[1].splitlines()[2:] if len(body) > 1 else []
        rows = [r for r in rows if r.strip()][:25]
        text.append(f'--- inclusive={inclusive}\n' + '\n'.join(rows))
    with open(dest, 'w') as f:
        f.write('\n'.join(text) + '\n')


# ---- micro --------------------------------------------------------------------

class Row:
    def __init__(self, key, label, op, target, cfgkey, iters, **over):
        self.key, self.label, self.op = key, label, op
        self.target, self.cfgkey, self.iters = target, cfgkey, iters
        self.over = over  # variant -> (host, port) or None (not applicable)

    def spec(self, variant):
        if variant in self.over:
            return self.over[variant]
        return self.target

    def cfg(self, variant):
        return self.cfgkey if variant == 'hostshim' else None


def micro_rows():
    t, u = TCP_PORT, UDP_PORT
    loop4 = ('127.0.0.1', str(t))
    pc_name = ('pc.bench.localhost', '80')
    return [
        Row('gai_unmapped', 'getaddrinfo, unmapped /etc/hosts name (1 rule)',
            'gai', ('unmapped.bench.test', '80'), 'one', 2000),
        Row('gai_unmapped_10k', 'getaddrinfo, unmapped name, 10,000 rules '
            '+ 100 wildcards', 'gai', ('unmapped.bench.test', '80'),
            'many10k', 2000),
        Row('gai_localhost', 'getaddrinfo `localhost`, rules under '
            '.localhost', 'gai', ('localhost', '80'), 'base', 2000),
        Row('gai_sibling', 'getaddrinfo, unmapped name beside mapped ones '
            '(other.bench.localhost)', 'gai', ('other.bench.localhost', '80'),
            'base', 2000),
        Row('gai_under_exact', 'getaddrinfo, unmapped name under a mapped '
            'one (x.api.bench.localhost)', 'gai',
            ('x.api.bench.localhost', '80'), 'base', 2000),
        Row('gai_target', 'getaddrinfo of the target name `server` itself',
            'gai', ('server', '80'), 'base', 2000),
        Row('gai_mapped_addr', 'getaddrinfo, mapped name, address target',
            'gai', ('api.bench.localhost', '80'), 'base', 2000,
            proxychains4=pc_name),
        Row('gai_mapped_named', 'getaddrinfo, mapped name, named target',
            'gai', ('auth.bench.localhost', '80'), 'base', 2000,
            proxychains4=pc_name),
        Row('gai_wildcard_10k', 'getaddrinfo, wildcard-matched name, 10,000 '
            'rules + 100 wildcards', 'gai', ('x.wild.bench.localhost', '80'),
            'many10k', 2000, proxychains4=pc_name),
        Row('ghbn_unmapped', 'gethostbyname, unmapped name', 'ghbn',
            ('unmapped.bench.test', '80'), 'one', 2000),
        Row('ghbn_mapped', 'gethostbyname, mapped name (named target)', 'ghbn',
            ('auth.bench.localhost', '80'), 'base', 2000,
            proxychains4=pc_name),
        Row('tcp_unmapped', 'connect TCP, unmapped address', 'tcp', loop4,
            'one', 5000),
        Row('tcp_mapped', 'connect TCP, mapped name', 'tcp',
            ('api.bench.localhost', '80'), 'base', 5000,
            none=loop4, floor=loop4, proxychains4=pc_name,
            nss_wrapper=('api.bench.localhost', str(t))),
        Row('tcp_unmapped_addr', 'connect TCP, unmapped address, address '
            'rules loaded', 'tcp', loop4, 'addr', 5000),
        Row('tcp_addr_rule', 'connect TCP through an address rule '
            '(127.0.0.2:80)', 'tcp', ('127.0.0.2', '80'), 'addr', 5000,
            none=loop4, floor=loop4, proxychains4=None, nss_wrapper=None),
        Row('udp_unmapped', 'connect UDP, unmapped address', 'udpconn',
            ('127.0.0.1', str(u)), 'one', 50000),
        Row('udp_unmapped_addr', 'connect UDP, unmapped address, address '
            'rules loaded', 'udpconn', ('127.0.0.1', str(u)), 'addr', 50000),
        Row('udp_mapped', 'connect UDP, mapped name', 'udpconn',
            ('udp.bench.localhost', '53'), 'base', 50000,
            none=('127.0.0.1', str(u)), floor=('127.0.0.1', str(u)),
            proxychains4=None, nss_wrapper=('udp.bench.localhost', str(u))),
        Row('sendto_unmapped', 'sendto UDP, unmapped address', 'sendto',
            ('127.0.0.1', str(u)), 'one', 20000),
        Row('sendto_mapped', 'sendto UDP, mapped name', 'sendto',
            ('udp.bench.localhost', '53'), 'base', 20000,
            none=('127.0.0.1', str(u)), floor=('127.0.0.1', str(u)),
            proxychains4=None, nss_wrapper=('udp.bench.localhost', str(u))),
    ]


CG_ITERS = {'gai': 200, 'gaisvc': 200, 'ghbn': 200, 'tcp': 1000,
            'udpconn': 2000, 'sendto': 2000}


def micro_cmd(op, host, port, iters, threads=1, warmup=None):
    cmd = [MICRO, '-n', str(iters), '-t', str(threads),
           '-l', str(TCP_PORT), '-u', str(UDP_PORT)]
    if warmup is not None:
        cmd += ['-w', str(warmup)]
    return cmd + [op, host, port]


def parse_micro(out):
    m = re.search(r'ns_per_op=([\d.]+) ops_per_s=(\d+) cpu_ns_per_op=([\d.]+)',
                  out)
    if not m:
        raise RuntimeError(f'micro: unexpected output: {out!r}')
    return {'ns': float(m.group(1)), 'ops': float(m.group(2)),
            'cpu': float(m.group(3))}


TRANSIENT = []  # failed runs that passed when run again: reported


def run_micro(cmd, env, timeout):
    """A wall-clock run of micro. One failed call fails the run; the run is
    tried once more, and the failure is kept for the report: a failure
    that comes back is an error."""
    try:
        return run(cmd, env=env, timeout=timeout)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        log(f'bench: failed, running again: {" | ".join(first)[:300]}')
        TRANSIENT.append(' | '.join(first)[:300])
        return run(cmd, env=env, timeout=timeout)


def in_turn(items, rep):
    """Forward on even repetitions, backward on odd ones: no variant always
    runs right after the same neighbour."""
    return list(items) if rep % 2 == 0 else list(reversed(items))


def micro(args, cfg, variants, cg_variants):
    rows = micro_rows()
    cells = {}  # (variant, op, host, port, cfgkey) -> result
    plan = []
    for r in rows:
        for v in variants:
            s = r.spec(v)
            if s is None:
                continue
            k = (v, r.op, s[0], s[1], r.cfg(v))
            if k not in cells:
                cells[k] = {'ns': [], 'cpu': [], 'ir': None}
                plan.append((k, r))
    scale = 0.25 if args.quick else 1.0
    # Instructions: once each; callgrind's counts repeat.
    if shutil.which('valgrind'):
        for i, (k, r) in enumerate(plan):
            v, op, host, port, ck = k
            if v not in cg_variants:
                continue
            name = f'micro-{r.key}-{v}'
            n = CG_ITERS[op]
            got = peer_run(v, name, lambda: callgrind(
                name, micro_cmd(op, host, port, n, warmup=20),
                variant_env(v, cfg, ck)))
            if got is None:
                cells[k]['error'] = True
                continue
            out, total, calls = got
            cells[k]['ir'] = total / n
            cells[k]['calls'] = {c: (cost / n, cnt / n)
                                 for c, (cost, cnt) in calls.items()}
            cells[k]['cg'] = os.path.relpath(out, ROOT)
            if v == 'hostshim':
                annotate(out, out.replace('.out', '.annotate.txt'))
        log(f'bench: micro: {sum(1 for k, _ in plan if k[0] in cg_variants)}'
            ' callgrind runs done')
    # Wall clock: interleaved repetitions, medians.
    for rep in range(args.reps):
        for k, r in in_turn(plan, rep):
            v, op, host, port, ck = k
            n = max(50, int(r.iters * scale))
            got = peer_run(v, f'micro {r.key}', lambda: run_micro(
                micro_cmd(op, host, port, n), variant_env(v, cfg, ck), 120))
            if got is None:
                cells[k]['error'] = True
                continue
            m = parse_micro(got[1])
            cells[k]['ns'].append(m['ns'])
            cells[k]['cpu'].append(m['cpu'])
        log(f'bench: micro: wall-clock repetition {rep + 1}/{args.reps} done')
    table = []
    for r in rows:
        entry = {'key': r.key, 'label': r.label, 'op': r.op, 'cells': {}}
        for v in variants:
            s = r.spec(v)
            if s is None:
                entry['cells'][v] = None
                continue
            c = cells[(v, r.op, s[0], s[1], r.cfg(v))]
            med = (lambda xs: statistics.median(xs) if xs else None)
            entry['cells'][v] = {
                'host': s[0], 'port': s[1], 'config': r.cfg(v),
                'ir': c['ir'], 'calls': c.get('calls'), 'cg': c.get('cg'),
                'ns_median': med(c['ns']),
                'ns_min': min(c['ns'], default=None),
                'ns_max': max(c['ns'], default=None),
                'cpu_median': med(c['cpu']), 'reps': len(c['ns']),
                'error': c.get('error', False)}
        table.append(entry)
    return table


# ---- threads --------------------------------------------------------------------

def threads(args, cfg):
    keys = ['gai_unmapped', 'gai_mapped_addr', 'gai_mapped_named',
            'tcp_unmapped', 'tcp_mapped', 'udp_unmapped', 'udp_mapped']
    rows = [r for r in micro_rows() if r.key in keys]
    variants = ['none', 'floor', 'hostshim']
    res = {(r.key, v, t): [] for r in rows for v in variants for t in (1, 8)}
    scale = 0.25 if args.quick else 1.0
    plan = [(r, v, t) for r in rows for v in variants for t in (1, 8)]
    for rep in range(args.reps):
        for r, v, t in in_turn(plan, rep):
            host, port = r.spec(v)
            # 8 threads make 8 times the calls: a quarter of the
            # iterations each keeps the run short.
            n = max(20, int(r.iters * scale / (4 if t == 8 else 1)))
            _, out, _ = run_micro(micro_cmd(r.op, host, port, n, threads=t),
                                  variant_env(v, cfg, r.cfg(v)), 180)
            res[(r.key, v, t)].append(parse_micro(out))
        log(f'bench: threads: repetition {rep + 1}/{args.reps} done')
    # Locks: a lock that threads contend for makes futex(2) calls. strace
    # counts them in one 8-thread run of each (the barriers make ~20).
    futex = {}
    if shutil.which('strace'):
        trace = os.path.join(BUILD, 'strace.txt')
        for r, v, t in plan:
            if t != 8:
                continue
            host, port = r.spec(v)
            n = 500
            run(['strace', '-f', '-qq', '-c', '-e', 'trace=futex', '-o',
                 trace] + micro_cmd(r.op, host, port, n, threads=8),
                env=variant_env(v, cfg, r.cfg(v)), timeout=300, check=False)
            with open(trace) as f:
                m = re.search(r'^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)(?:\s+\d+)?'
                              r'\s+futex$', f.read(), re.M)
            futex[(r.key, v)] = {'calls': int(m.group(1)) if m else 0,
                                 'ops': n * 8}
        log('bench: threads: futex counts done')
    table = []
    for r in rows:
        e = {'key': r.key, 'label': r.label, 'cells': {}}
        for v in variants:
            one = statistics.median(m['ops'] for m in res[(r.key, v, 1)])
            eight = statistics.median(m['ops'] for m in res[(r.key, v, 8)])
            c1 = statistics.median(m['cpu'] for m in res[(r.key, v, 1)])
            c8 = statistics.median(m['cpu'] for m in res[(r.key, v, 8)])
            e['cells'][v] = {'ops1': one, 'ops8': eight, 'scaling': eight / one,
                             'cpu1': c1, 'cpu8': c8, 'cpu_ratio': c8 / c1,
                             'futex': futex.get((r.key, v))}
        table.append(e)
    return table


# ---- startup ----------------------------------------------------------------------

def startup(args, cfg):
    true = shutil.which('true') or '/bin/true'
    true = '/bin/true' if os.path.exists('/bin/true') else true
    cases = [('none', 'none', None), ('floor', 'floor', None),
             ('hostshim, 0 rules', 'hostshim', None),
             ('hostshim, 1 rule', 'hostshim', 'one'),
             ('hostshim, 10,000 rules + 100 wildcards', 'hostshim', 'many10k'),
             ('hostshim, 100,000 rules + 100 wildcards', 'hostshim',
              'many100k')]
    cases += [(p, p, None) for p in peers()]
    out = {label: {'variant': v, 'config': ck, 'ms': [], 'minflt': []}
           for label, v, ck in cases}
    if shutil.which('valgrind'):
        for label, v, ck in cases:
            if args.quick and v in peers():
                continue
            name = 'startup-' + re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')
            got = peer_run(v, name, lambda: callgrind(
                name, [true], variant_env(v, cfg, ck), toggle=False,
                timeout=600))
            if got is None:
                continue
            o, total, _ = got
            out[label]['ir'] = total
            out[label]['cg'] = os.path.relpath(o, ROOT)
            if v == 'hostshim' and ck in ('one', 'many10k', 'many100k'):
                annotate(o, o.replace('.out', '.annotate.txt'))
    count = 10 if args.quick else 40
    for rep in range(args.reps):
        for label, v, ck in in_turn(cases, rep):
            n = count if ck != 'many100k' else max(5, count // 4)
            got = peer_run(v, 'startup', lambda: run(
                [SPAWN, str(n), true], env=variant_env(v, cfg, ck),
                timeout=300))
            if got is not None:
                out[label]['ms'].append(
                    float(re.search(r'median_ns=(\d+)', got[1]).group(1)) / 1e6)
                out[label]['minflt'].append(
                    float(re.search(r'median_minflt=(\d+)', got[1]).group(1)))
        log(f'bench: startup: repetition {rep + 1}/{args.reps} done')
    for label in list(out):
        ms = out[label]['ms']
        if not ms:
            del out[label]
            continue
        out[label].update(ms_median=statistics.median(ms), ms_min=min(ms),
                          ms_max=max(ms),
                          minflt=statistics.median(out[label]['minflt']))
    return out


# ---- node -----------------------------------------------------------------------------

def node(args, cfg):
    nodebin = shutil.which('node')
    if not nodebin:
        return {'skipped': 'node is not installed'}
    here = os.path.dirname(os.path.abspath(__file__))
    server = subprocess.Popen([nodebin, os.path.join(here, 'server.mjs'),
                               str(HTTP_PORT)], env=clean_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        deadline = time.time() + 20
        line = ''
        os.set_blocking(server.stdout.fileno(), False)
        while time.time() < deadline and 'ready' not in line:
            if server.poll() is not None:
                raise RuntimeError('node server: ' + server.stderr.read())
            line += server.stdout.readline() or ''
            time.sleep(0.05)
        if 'ready' not in line:
            raise RuntimeError('node server did not start within 20 s')
        h = HTTP_PORT
        cases = [
            ('localhost, no preload', 'none', f'http://localhost:{h}', None),
            ('localhost, floor', 'floor', f'http://localhost:{h}', None),
            ('mapped name, hostshim', 'hostshim',
             'http://auth.bench.localhost', 'node'),
        ]
        if PROXYCHAINS:
            cases.append(('mapped name, proxychains4', 'proxychains4',
                          'http://pc.bench.localhost', None))
        if NSS_WRAPPER:
            cases.append(('mapped name, nss_wrapper (port in the URL)',
                          'nss_wrapper', f'http://auth.bench.localhost:{h}',
                          None))
        modes = [('close', '/close', 'new connection per request'),
                 ('keepalive', '/', 'keep-alive, 1 in flight'),
                 ('c50', '/', 'keep-alive, 50 in flight')]
        secs = 1 if args.quick else 3
        reps = args.reps if args.quick else min(args.reps, 5)
        res = {(m, c[0]): [] for m, _, _ in modes for c in cases}
        cpu = {(m, c[0]): [] for m, _, _ in modes for c in cases}
        errors = {}
        for rep in range(reps):
            for m, path, _ in modes:
                for label, v, url, ck in in_turn(cases, rep):
                    try:
                        rc, o, e = run([nodebin,
                                        os.path.join(here, 'fetch.mjs'),
                                        url + path, m, str(secs)],
                                       env=variant_env(v, cfg, ck, node=True),
                                       timeout=60 + 4 * secs, check=False)
                    except subprocess.TimeoutExpired:
                        rc, o, e = 124, '', f'no end after {60 + 4 * secs} s'
                    try:
                        d = json.loads(o.strip().splitlines()[-1])
                    except (ValueError, IndexError):
                        d = {'rps': 0, 'errors': -1, 'error': e[-300:]}
                    if rc != 0 or d.get('errors'):
                        errors[(m, label)] = d.get('error') or e[-300:]
                    res[(m, label)].append(d['rps'])
                    cpu[(m, label)].append(d.get('cpu_us_per_req', 0))
            log(f'bench: node: repetition {rep + 1}/{reps} done')
        table = []
        for m, _, desc in modes:
            e = {'mode': m, 'desc': desc, 'cells': {}}
            base = res[(m, cases[0][0])]
            for label, v, url, ck in cases:
                rps = res[(m, label)]
                # Each repetition runs the variants back to back: the
                # ratio within a repetition cancels the machine's drift.
                ratios = [a / b for a, b in zip(rps, base) if b]
                e['cells'][label] = {
                    'url': url, 'rps_median': statistics.median(rps),
                    'rps_min': min(rps), 'rps_max': max(rps),
                    'ratio_median': (statistics.median(ratios)
                                     if ratios else None),
                    'ratio_min': min(ratios, default=None),
                    'ratio_max': max(ratios, default=None),
                    'cpu_us_median': statistics.median(cpu[(m, label)]),
                    'error': errors.get((m, label))}
            table.append(e)
        return {'modes': table, 'reps': reps, 'seconds': secs}
    finally:
        kill_group(server, grace=3)


# ---- report -------------------------------------------------------------------------

def fmt_ir(x):
    return '-' if x is None else f'{x:,.0f}'


def fmt_ns(x):
    if x is None:
        return '-'
    return f'{x / 1000:,.1f} µs' if x >= 10000 else f'{x:,.0f} ns'


def call_cost(cell, fn):
    if not cell or not cell.get('calls'):
        return None
    c = cell['calls'].get(fn)
    return c[0] if c else None


def targets(res):
    """Each target: (what, limit, measured, met) from the figures."""
    out = []
    mic = {r['key']: r for r in res.get('micro', [])}

    def ir(key, v):
        c = mic.get(key, {}).get('cells', {}).get(v)
        return c and c.get('ir')

    def gai(key, v):
        c = mic.get(key, {}).get('cells', {}).get(v)
        return call_cost(c, 'getaddrinfo')

    if ir('tcp_unmapped', 'hostshim') and ir('tcp_unmapped', 'floor'):
        for key, lim, what in (('tcp_unmapped', 8, 'connect, unmapped'),
                               ('udp_unmapped', 8, 'connect UDP, unmapped'),
                               ('tcp_unmapped_addr', 8, 'connect, unmapped, '
                                'address rules loaded'),
                               ('udp_unmapped_addr', 8, 'connect UDP, '
                                'unmapped, address rules loaded'),
                               ('sendto_unmapped', 8, 'sendto UDP, unmapped'),
                               ('tcp_mapped', 40, 'connect, mapped'),
                               ('tcp_addr_rule', 40, 'connect through an '
                                'address rule'),
                               ('udp_mapped', 40, 'connect UDP, mapped'),
                               ('sendto_mapped', 40, 'sendto UDP, mapped')):
            d = ir(key, 'hostshim') - ir(key, 'floor')
            out.append((f'{what}: instructions over the floor', f'<= {lim}',
                        f'+{d:,.0f} ({ir(key, "hostshim"):,.0f} vs '
                        f'{ir(key, "floor"):,.0f})', d <= lim))
        for key, what in (('gai_unmapped', '1 rule'),
                          ('gai_unmapped_10k', '10,000 rules + 100 wildcards')):
            h, n = gai(key, 'hostshim'), gai(key, 'none')
            out.append((f'getaddrinfo, unmapped, {what}: over no preload',
                        '<= +1%', f'{(h / n - 1) * 100:+.1f}% '
                        f'({h:,.0f} vs {n:,.0f})', h <= n * 1.01))
        h = gai('gai_mapped_addr', 'hostshim')
        out.append(('getaddrinfo, mapped, address target', '<= 2,000',
                    f'{h:,.0f}', h <= 2000))
        h, n = gai('gai_mapped_named', 'hostshim'), gai('gai_target', 'none')
        out.append(('getaddrinfo, mapped, named target, vs a direct lookup '
                    'of the target', '<= 1.10x',
                    f'{h / n:.2f}x ({h:,.0f} vs {n:,.0f})', h <= 1.1 * n))
    st = res.get('startup')
    if st:
        floor = st['floor']['ms_median']
        one = st['hostshim, 1 rule']['ms_median']
        out.append(('start-up, 1 rule, vs the floor (wall)', '<= +5%',
                    f'{(one / floor - 1) * 100:+.1f}% ({one:.3f} vs '
                    f'{floor:.3f} ms)', one <= floor * 1.05))
        if st['floor'].get('ir') and st['hostshim, 1 rule'].get('ir'):
            a, b = st['hostshim, 1 rule']['ir'], st['floor']['ir']
            out.append(('start-up, 1 rule, vs the floor (instructions)',
                        '<= +5%', f'{(a / b - 1) * 100:+.1f}% ({a:,} vs {b:,})',
                        a <= b * 1.05))
        for label, lim in (('hostshim, 10,000 rules + 100 wildcards', 2),
                           ('hostshim, 100,000 rules + 100 wildcards', 20)):
            d = st[label]['ms_median'] - floor
            out.append((f'start-up, {label[10:]}, vs the floor',
                        f'<= +{lim} ms', f'{d:+.2f} ms', d <= lim))
    th = res.get('threads')
    if th:
        for r in th:
            if r['key'] in ('gai_unmapped', 'tcp_unmapped', 'udp_unmapped'):
                continue
            hs = r['cells']['hostshim']['scaling']
            ns = r['cells']['none']['scaling']
            hf = r['cells']['hostshim'].get('futex')
            nf = r['cells']['none'].get('futex')
            if hf and nf:
                # No lock of its own: no more futex calls than without
                # the library (barriers and libc's own locks), give or
                # take the barriers' 20.
                out.append((f'8 threads, {r["label"]}: futex calls (locks '
                            'contended) vs no preload', '<= no preload + 20',
                            f'{hf["calls"]:,} vs {nf["calls"]:,} (throughput '
                            f'1 → 8 threads: {hs:.2f}x vs {ns:.2f}x)',
                            hf['calls'] <= nf['calls'] + 20))
    nd = res.get('node')
    if nd and 'modes' in nd:
        for m in nd['modes']:
            c = m['cells']['mapped name, hostshim']
            h = c['rps_median']
            n = m['cells']['localhost, no preload']['rps_median']
            r = c['ratio_median']
            lo, hi = c.get('ratio_min'), c.get('ratio_max')
            # On a busy machine the ratio swings more between repetitions
            # than the library can move it: say so rather than judge.
            ok = r >= 0.98 or ('noise' if hi is not None and hi >= 1.0
                               else False)
            out.append((f'Node fetch, {m["desc"]}: mapped vs localhost '
                        '(median of the per-repetition ratios)',
                        '>= 0.98x', f'{r:.3f}x, repetitions {lo:.2f}-'
                        f'{hi:.2f} ({h:,.0f} vs {n:,.0f} req/s)', ok))
    return out


def report(res, quick):
    L = []
    variants = res['variants']
    if 'micro' in res:
        L.append('### Micro: instructions per call (callgrind)\n')
        L.append('| operation | ' + ' | '.join(variants) +
                 ' | hostshim - floor | hostshim / none |')
        L.append('|---' * (len(variants) + 3) + '|')
        for r in res['micro']:
            cells = []
            for v in variants:
                c = r['cells'].get(v)
                if c is None:
                    cells.append('n/a')
                    continue
                cells.append(fmt_ir(c['ir']) + (' (errors)' if c.get('error')
                                                else ''))
            h, f = r['cells'].get('hostshim'), r['cells'].get('floor')
            n = r['cells'].get('none')
            d = (f'{h["ir"] - f["ir"]:+,.0f}'
                 if h and f and h['ir'] is not None and f['ir'] is not None
                 else '-')
            q = (f'{h["ir"] / n["ir"]:.3f}'
                 if h and n and h['ir'] and n['ir'] else '-')
            L.append(f'| {r["label"]} | ' + ' | '.join(cells) +
                     f' | {d} | {q} |')
        L.append('\nInstructions per iteration of the loop: the call and what '
                 'the loop does around it (freeaddrinfo; socket, close and '
                 'accept for TCP), the same for every column. Without '
                 'hostshim a mapped name is looked up in /etc/hosts, where '
                 'the namespace lists it (what Docker\'s extra_hosts gives: '
                 'an address, no port), and a mapped connect goes straight '
                 'to the target. proxychains4 looks up pc.bench.localhost '
                 '(not in /etc/hosts) and connects through its `raw` entry. '
                 'n/a: the preload cannot do it.\n')
        L.append('### Micro: time per call, CPU and wall clock (medians)\n')
        L.append('| operation | ' + ' | '.join(variants) + ' |')
        L.append('|---' * (len(variants) + 1) + '|')
        for r in res['micro']:
            cells = []
            for v in variants:
                c = r['cells'].get(v)
                if c is None:
                    cells.append('n/a')
                    continue
                cells.append(f'{fmt_ns(c["cpu_median"])} '
                             f'({fmt_ns(c["ns_median"])})')
            L.append(f'| {r["label"]} | ' + ' | '.join(cells) + ' |')
        reps = max((c['reps'] for r in res['micro']
                    for c in r['cells'].values() if c), default=0)
        L.append(f'\nCPU time of the calling thread per call (wall clock in '
                 f'brackets), medians of {reps} interleaved runs. The '
                 'machine is shared: the wall clock includes waiting for a '
                 'core; CPU time is the steadier figure, the instruction '
                 'count the exact one.\n')
    if 'threads' in res:
        L.append('### Threads: 1 thread against 8 threads\n')
        vs = ['none', 'floor', 'hostshim']
        L.append('| operation | ' + ' | '.join(
            f'{v}: ops/s 1 → 8 threads (x) | {v}: CPU/call 8 ÷ 1 | '
            f'{v}: futex calls' for v in vs) + ' |')
        L.append('|---' * (3 * len(vs) + 1) + '|')
        for r in res['threads']:
            cells = []
            for v in vs:
                c = r['cells'][v]
                cells.append(f'{c["ops1"]:,.0f} → {c["ops8"]:,.0f} '
                             f'({c["scaling"]:.2f})')
                cells.append(f'{c["cpu_ratio"]:.2f}')
                f = c.get('futex')
                cells.append(f'{f["calls"]:,}' if f else '-')
            L.append(f'| {r["label"]} | ' + ' | '.join(cells) + ' |')
        L.append('\nMedians of the repetitions. The machine has '
                 f'{os.cpu_count()} cores: 8 threads can at best run '
                 f'{os.cpu_count()}x as fast. futex calls: counted by strace '
                 'in one run of 8 threads x 500 calls; the start and end '
                 'barriers make about 20; a lock the threads contend for '
                 'makes thousands (glibc\'s /etc/hosts lookups take one).\n')
    if 'startup' in res:
        st = res['startup']
        L.append('### Start-up: /bin/true\n')
        L.append('| preload | instructions | vs floor | wall ms, median '
                 '(min-max of the repetitions) | vs floor | page faults |')
        L.append('|---|---|---|---|---|---|')
        fi = st['floor'].get('ir')
        fm = st['floor']['ms_median']
        for label, c in st.items():
            ir = c.get('ir')
            L.append(f'| {label} | {fmt_ir(ir)} | '
                     f'{f"{ir - fi:+,}" if ir and fi else "-"} | '
                     f'{c["ms_median"]:.3f} ({c["ms_min"]:.3f}-'
                     f'{c["ms_max"]:.3f}) | {c["ms_median"] - fm:+.3f} ms | '
                     f'{c["minflt"]:,.0f} |')
        L.append('')
    nd = res.get('node')
    if nd:
        L.append('### Node.js fetch: requests per second (median, min-max)\n')
        if 'modes' not in nd:
            L.append(nd.get('skipped', 'skipped') + '\n')
        else:
            labels = list(nd['modes'][0]['cells'])
            L.append('| mode | ' + ' | '.join(labels) + ' |')
            L.append('|---' * (len(labels) + 1) + '|')
            base = 'localhost, no preload'
            for m in nd['modes']:
                cells = []
                for lab in labels:
                    c = m['cells'][lab]
                    s = (f'{c["rps_median"]:,.0f} ({c["rps_min"]:,.0f}-'
                         f'{c["rps_max"]:,.0f})')
                    if lab != base and c.get('ratio_median') is not None:
                        s += f' = {c["ratio_median"]:.3f}x'
                    s += f'; {c["cpu_us_median"]:,.0f} µs CPU/req'
                    if c.get('error'):
                        s += ' ERRORS'
                    cells.append(s)
                L.append(f'| {m["desc"]} | ' + ' | '.join(cells) + ' |')
            L.append(f'\n{nd["reps"]} repetitions of {nd["seconds"]} s each, '
                     'the variants back to back in each. Nx: the median over '
                     'the repetitions of the ratio to `localhost, no preload` '
                     'in the same repetition. CPU/req: the client\'s CPU '
                     'time per request (median).\n')
            for m in nd['modes']:
                for lab, c in m['cells'].items():
                    if c.get('error'):
                        L.append(f'- {m["mode"]}, {lab}: {c["error"]}')
    if res.get('transient_failures'):
        L.append('### Runs that failed once and passed when run again\n')
        L.extend(f'- {t}' for t in res['transient_failures'])
        L.append('')
    if not quick:
        t = targets(res)
        if t:
            L.append('### Targets\n')
            L.append('| target | limit | measured | |')
            L.append('|---|---|---|---|')
            for what, lim, got, ok in t:
                verdict = ('not resolved: within the noise' if ok == 'noise'
                           else 'met' if ok else 'MISSED')
                L.append(f'| {what} | {lim} | {got} | {verdict} |')
            L.append('')
    return '\n'.join(L) + '\n'


def inner(args):
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    os.makedirs(BUILD, exist_ok=True)
    cfg = make_configs(args.quick)
    variants = ['none', 'floor', 'hostshim'] + peers()
    cg_variants = ['none', 'floor', 'hostshim'] + ([] if args.quick
                                                  else peers())
    res = {'variants': variants, 'quick': args.quick, 'reps': args.reps,
           'date': time.strftime('%Y-%m-%d %H:%M:%S'),
           'machine': {'nproc': os.cpu_count(), 'uname': ' '.join(os.uname()),
                       'load': os.getloadavg()}}
    if not shutil.which('valgrind'):
        log('bench: valgrind is not installed: no instruction counts')
    # What is measured, taken now: the tree may move during the run.
    rev = run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'],
              check=False, timeout=30)[1].strip()
    dirty = run(['git', '-C', ROOT, 'status', '--short', '--', 'shim'],
                check=False, timeout=30)[1].split()
    with open(LIB, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()[:12]
    res['git'] = {'head': rev, 'shim_changes': dirty, 'lib': LIB,
                  'lib_sha256': sha}
    sections = args.only.split(',') if args.only else [
        'micro', 'threads', 'startup', 'node']
    t0 = time.time()
    partial = os.path.join(BUILD, 'results.partial.json')
    for name, fn in (('micro', lambda: micro(args, cfg, variants, cg_variants)),
                     ('threads', lambda: threads(args, cfg)),
                     ('startup', lambda: startup(args, cfg)),
                     ('node', lambda: node(args, cfg))):
        if name in sections:
            res[name] = fn()
            with open(partial, 'w') as f:  # what a later failure keeps
                json.dump(res, f, indent=1, default=str)
    res['seconds'] = time.time() - t0
    res['transient_failures'] = TRANSIENT
    res['machine']['load_after'] = os.getloadavg()
    text = report(res, args.quick)
    rev, dirty = res['git']['head'], res['git']['shim_changes']
    head = (f'hostshim benchmarks, {res["date"]}, library {LIB_NAME} '
            f'(sha256 {res["git"]["lib_sha256"]}) built from '
            f'{rev or "?"}{" with uncommitted changes to shim/" if dirty else ""}, '
            f'{"quick" if args.quick else "full"} run, {args.reps} '
            f'repetitions, {res["seconds"]:.0f} s; load average before '
            f'{res["machine"]["load"][0]:.2f}, after '
            f'{res["machine"]["load_after"][0]:.2f}, {os.cpu_count()} cores\n'
            f'command: {" ".join(["python3", "bench/run.py"] + sys.argv[2:])}\n')
    with open(os.path.join(BUILD, 'results.md'), 'w') as f:
        f.write(head + '\n' + text)
    with open(os.path.join(BUILD, 'results.json'), 'w') as f:
        json.dump(res, f, indent=1, default=str)
    if os.path.exists(partial):
        os.unlink(partial)
    print(head)
    print(text)
    print(f'(written to {os.path.relpath(BUILD, ROOT)}/results.md and '
          'results.json; callgrind files in '
          f'{os.path.relpath(BUILD, ROOT)}/callgrind/)')
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true',
                    help='smoke run for CI: short, no targets judged')
    ap.add_argument('--only', help='comma-separated sections: micro, '
                    'threads, startup, node')
    ap.add_argument('--reps', type=int, help='repetitions (default 7, '
                    'quick: 1)')
    ap.add_argument('--inner', action='store_true', help=argparse.SUPPRESS)
    argv = sys.argv[1:]
    args = ap.parse_args(argv)
    if args.reps is None:
        args.reps = 1 if args.quick else 7
    if args.inner:
        try:
            return inner(args)
        except Interrupted as e:
            log(f'bench: stopped by {e}')
            return 130
    return outer(args, [a for a in argv if a != '--inner'])


if __name__ == '__main__':
    sys.exit(main())
