// The reverse proxy of the docker-compose setup: serves the public names to
// the browser and forwards by Host header, keeping the Host header as it came.
//
// Environment: PORT (default 80), ROUTES: "public=host:port,..." e.g.
//   auth.localhost=server:9000,app.localhost=web:3000
import http from 'node:http';

const PORT = Number(process.env.PORT || 80);
const routes = new Map();
for (const item of String(process.env.ROUTES || '').split(',')) {
  const m = /^\s*([^=\s]+)\s*=\s*([^:\s]+):(\d+)\s*$/.exec(item);
  if (m) routes.set(m[1].toLowerCase(), { host: m[2], port: Number(m[3]) });
}

function log(...args) {
  console.log(new Date().toISOString(), ...args);
}

const agent = new http.Agent({ keepAlive: false });

const server = http.createServer((req, res) => {
  const hostHeader = String(req.headers.host || '');
  const name = hostHeader.replace(/:\d+$/, '').toLowerCase();
  const route = routes.get(name);
  if (!route) {
    log('no route', hostHeader, req.url);
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`no route for ${hostHeader}\n`);
    return;
  }
  const headers = { ...req.headers };
  headers['x-forwarded-for'] = req.socket.remoteAddress;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-host'] = hostHeader;
  const upstream = http.request(
    { host: route.host, port: route.port, method: req.method, path: req.url, headers, agent, timeout: 30000 },
    (up) => {
      log(req.method, hostHeader, req.url, '->', `${route.host}:${route.port}`, up.statusCode);
      res.writeHead(up.statusCode, up.rawHeaders);
      up.pipe(res);
    },
  );
  upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
  upstream.on('error', (err) => {
    log('upstream error', hostHeader, req.url, err.message);
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`bad gateway: ${err.message}\n`);
  });
  req.pipe(upstream);
});

server.listen(PORT, '0.0.0.0', () => log(`proxy listening on :${PORT}`, [...routes].map(([k, v]) => `${k}->${v.host}:${v.port}`).join(' ')));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
