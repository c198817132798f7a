// fetch: requests per second of Node.js fetch against a URL.
//
// usage: node fetch.mjs URL MODE SECONDS
//   close      one request at a time; the URL's path should start with
//              /close so the server ends each connection: every request
//              makes a new connection, so a lookup and a connect
//   keepalive  one request at a time over a kept-alive connection
//   c50        50 requests in flight at any time (kept alive)
// Warms up for a quarter of the time (undici loads, connections open),
// then counts completed requests for SECONDS. Prints one JSON line:
// {"mode":..., "requests":N, "seconds":S, "rps":R, "cpu_us_per_req":C,
// "errors":E}: C is this process's CPU time (all threads, user and system)
// per request, which a busy machine disturbs less than the rate.
// Exits 1 if any request failed, 3 if the client hung (then rps is 0).
const [url, mode, secondsText] = process.argv.slice(2);
const seconds = Number(secondsText);
const inflight = mode === 'c50' ? 50 : 1;
let counting = false, done = 0, errors = 0, firstError = null, stop = false;

async function loop() {
  while (!stop) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      if (counting) done++;
    } catch (e) {
      errors++;
      firstError ??= e;
      if (errors > 100) stop = true;
    }
  }
}

// A client that hangs (a preload that deadlocks in a lookup) must still
// end: report what was counted and exit 3.
const watchdog = setTimeout(() => {
  console.log(JSON.stringify({mode, requests: done, seconds: 0, rps: 0,
                              errors: errors + 1,
                              error: `watchdog: no end after ${seconds * 1.25 + 15} s`}));
  process.exit(3);
}, (seconds * 1.25 + 15) * 1000);
watchdog.unref();
const loops = Array.from({length: inflight}, loop);
await new Promise(r => setTimeout(r, Math.max(250, seconds * 250)));
counting = true;
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
await new Promise(r => setTimeout(r, seconds * 1000));
const cpu = process.cpuUsage(cpu0);
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
const requests = done;
counting = false;
stop = true;
// Requests still in flight get a few seconds to finish, not forever.
await Promise.race([Promise.allSettled(loops),
                    new Promise(r => setTimeout(r, 5000).unref())]);
console.log(JSON.stringify({mode, requests, seconds: elapsed,
                            rps: requests / elapsed,
                            cpu_us_per_req: (cpu.user + cpu.system) / Math.max(1, requests),
                            errors,
                            error: firstError ? String(firstError.cause ?? firstError) : null}));
process.exit(errors ? 1 : 0);
