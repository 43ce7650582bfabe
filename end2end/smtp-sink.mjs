// A small SMTP sink for the end-to-end run (node's `net` only): speaks EHLO/HELO, MAIL, RCPT,
// DATA, RSET, NOOP and QUIT on 127.0.0.1:<port> and writes each message it receives to
// <dir>/<n>.eml (envelope recipients in <dir>/<n>.rcpt), renamed into place once complete.
//
//   node end2end/smtp-sink.mjs <port> <dir>
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const [port, dir] = [Number(process.argv[2]), process.argv[3]];
if (!port || !dir) {
  console.error('usage: node smtp-sink.mjs <port> <dir>');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
let count = 0;

function save(rcpt, data) {
  count += 1;
  const name = String(count).padStart(4, '0');
  writeFileSync(join(dir, `${name}.rcpt`), rcpt.join('\n'));
  writeFileSync(join(dir, `.${name}.tmp`), data);
  renameSync(join(dir, `.${name}.tmp`), join(dir, `${name}.eml`));
}

const server = createServer((socket) => {
  socket.setEncoding('utf8');
  let buffer = '';
  let inData = false;
  let data = [];
  let rcpt = [];
  const reply = (line) => socket.write(`${line}\r\n`);
  reply('220 keyport-e2e ESMTP');
  socket.on('data', (chunk) => {
    buffer += chunk;
    let at;
    while ((at = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, at + 1);
      buffer = buffer.slice(at + 1);
      if (inData) {
        if (line === '.\r\n' || line === '.\n') {
          inData = false;
          save(rcpt, data.join(''));
          data = [];
          rcpt = [];
          reply('250 OK: queued');
        } else {
          // Dot-stuffing (RFC 5321 4.5.2): a leading dot was doubled.
          data.push(line.startsWith('.') ? line.slice(1) : line);
        }
        continue;
      }
      const command = line.trim();
      const verb = command.split(/[ :]/)[0].toUpperCase();
      switch (verb) {
        case 'EHLO':
          socket.write('250-keyport-e2e\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
          break;
        case 'HELO':
          reply('250 keyport-e2e');
          break;
        case 'MAIL':
          rcpt = [];
          reply('250 OK');
          break;
        case 'RCPT':
          rcpt.push(command.replace(/^[^<]*<|>.*$/g, ''));
          reply('250 OK');
          break;
        case 'DATA':
          inData = true;
          reply('354 End data with <CR><LF>.<CR><LF>');
          break;
        case 'RSET':
          rcpt = [];
          data = [];
          reply('250 OK');
          break;
        case 'NOOP':
          reply('250 OK');
          break;
        case 'QUIT':
          reply('221 Bye');
          socket.end();
          break;
        default:
          reply('502 Command not implemented');
      }
    }
  });
  socket.on('error', () => {});
});

server.listen(port, '127.0.0.1', () => {
  console.log(`smtp sink listening on 127.0.0.1:${port}, writing to ${dir}`);
});
const stop = () => {
  server.close(() => process.exit(0));
  // Connections still open (a client that never said QUIT) do not hold the run up.
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
