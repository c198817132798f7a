// server: the local HTTP server the Node.js fetch benchmark talks to.
//
// usage: node server.mjs PORT
// Listens on [::]:PORT (IPv4 and IPv6, so `localhost` answers on ::1 and on
// 127.0.0.1 alike) and answers every request with a short 200. A path that
// starts with /close answers with "Connection: close", so each request of
// that kind needs a new connection (and a new lookup). Prints "ready" once
// it listens.
import http from 'node:http';

const port = Number(process.argv[2]);
const body = Buffer.from('ok\n');
const server = http.createServer((req, res) => {
  const headers = {'content-type': 'text/plain', 'content-length': body.length};
  if (req.url.startsWith('/close')) headers.connection = 'close';
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen({port, host: '::', ipv6Only: false, backlog: 4096}, () => {
  process.stdout.write('ready\n');
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
