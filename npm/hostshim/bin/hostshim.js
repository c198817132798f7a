#!/usr/bin/env node
// hostshim's npm entry point: finds the platform package npm installed for
// this machine (@hostshim/linux-{x64,arm64}-{gnu,musl}, one of the
// optionalDependencies, chosen by npm from their os, cpu and libc fields)
// and runs its launcher with the same arguments. hostshim works by
// preloading a library into Linux programs, so elsewhere it says so and
// exits 125, the launcher's status for its own errors.
//
// For tests only: HOSTSHIM_NPM_TEST_PLATFORM, HOSTSHIM_NPM_TEST_ARCH and
// HOSTSHIM_NPM_TEST_LIBC stand in for process.platform, process.arch and the
// detected libc; check() is exported for the same purpose.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const SCOPE = '@hostshim';
const ARCHES = ['x64', 'arm64'];

// glibc or musl: Node's own report names the glibc it runs on (absent on
// musl), as npm itself decides the libc field.
function detectLibc() {
  try {
    const header = process.report.getReport().header;
    if (header.glibcVersionRuntime) return 'gnu';
  } catch (e) { /* no report: look for musl's loader */ }
  try {
    if (fs.readdirSync('/lib').some((f) => f.startsWith('ld-musl-'))) return 'musl';
  } catch (e) { /* no /lib */ }
  return 'gnu';
}

// What to run here: {launcher} or {message} (to print, then exit 125).
function check(opts = {}) {
  const env = opts.env || process.env;
  const platform = opts.platform || env.HOSTSHIM_NPM_TEST_PLATFORM || process.platform;
  const arch = opts.arch || env.HOSTSHIM_NPM_TEST_ARCH || process.arch;
  const resolve = opts.resolve || ((id) => require.resolve(id));
  if (platform !== 'linux') {
    return {
      message:
        `hostshim runs on Linux only (this is ${platform}): it preloads a ` +
        'library into Linux programs, which macOS and Windows have no way ' +
        'to do. Run it inside a Linux container, WSL 2 or a Linux VM.',
    };
  }
  if (!ARCHES.includes(arch)) {
    return {
      message: `hostshim has no build for Linux on ${arch}; there are builds for x64 and arm64.`,
    };
  }
  const libc = opts.libc || env.HOSTSHIM_NPM_TEST_LIBC || detectLibc();
  const other = libc === 'musl' ? 'gnu' : 'musl';
  for (const l of [libc, other]) {
    const pkg = `${SCOPE}/linux-${arch}-${l}`;
    let dir;
    try {
      dir = path.dirname(resolve(`${pkg}/package.json`));
    } catch (e) {
      continue;
    }
    return { launcher: path.join(dir, 'bin', 'hostshim'), pkg };
  }
  return {
    message:
      `hostshim: the package ${SCOPE}/linux-${arch}-${libc} is not installed. npm ` +
      'installs it with hostshim as an optional dependency, unless optional ' +
      'dependencies are left out (--omit=optional) or npm was told another ' +
      'platform (--os, --cpu, --libc). Install hostshim again without those.',
  };
}

function main() {
  const found = check();
  if (found.message) {
    process.stderr.write(found.message + '\n');
    process.exit(125);
  }
  // Node can't replace itself with the launcher: run it as a child, pass
  // signals on, and end as it ends.
  const child = spawn(found.launcher, process.argv.slice(2), { stdio: 'inherit' });
  const forward = (sig) => () => child.kill(sig);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']) {
    process.on(sig, forward(sig));
  }
  child.on('error', (err) => {
    process.stderr.write(`hostshim: cannot run ${found.launcher}: ${err.message}\n`);
    process.exit(125);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code);
  });
}

module.exports = { check, detectLibc };
if (require.main === module) main();
