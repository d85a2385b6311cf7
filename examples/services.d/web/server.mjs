// A small HTTP server that tells warden it is ready (s6 style: a newline on fd 3) once it listens.
import http from 'node:http';
import fs from 'node:fs';

const server = http.createServer((req, res) => res.end(`hello from web, pid ${process.pid}\n`));
server.listen(8099, '127.0.0.1', () => {
  fs.writeSync(3, '\n');
  console.log('web: listening on 127.0.0.1:8099');
});
process.on('SIGTERM', () => {
  console.log('web: SIGTERM, closing');
  server.close(() => process.exit(0));
});
