/**
 * The serial half of the package smoke test: socat makes a kernel PTY pair;
 * the packaged Node (emulated for arm64) opens one end with serialport, the
 * transport of tidegate-bridge, through its bundled prebuilt binding; the host
 * answers on the other end. Proves the addon loads and does real tty I/O.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';

const TARGET = `
const r = require('module').createRequire(process.argv[2]);
const { SerialPort } = r('serialport');
const port = new SerialPort({ path: process.argv[3], baudRate: 115200 });
let got = '';
const fail = (e) => { console.error(String(e)); process.exit(1); };
port.on('error', fail);
port.on('open', () => port.write('ping-from-target\\n'));
port.on('data', (d) => {
  got += d.toString();
  if (got.includes('\\n')) { console.log('received ' + got.trim()); port.close(() => process.exit(0)); }
});
setTimeout(() => fail('no reply within 30 s'), 30000).unref();
`;

export async function checkSerialPort(runner: string[], opt: string, work: string): Promise<string> {
  const a = join(work, 'ttyA');
  const b = join(work, 'ttyB');
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 50 && !(existsSync(a) && existsSync(b)); i++)
      await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(b)) throw new Error('socat made no PTY pair');
    const script = join(work, 'serial.cjs');
    writeFileSync(script, TARGET);
    const [cmd, ...rest] = runner;
    const target = new Promise<string>((resolve, reject) =>
      execFile(
        cmd!,
        [...rest, script, join(opt, 'app/package.json'), a],
        { timeout: 60_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message} ${stderr}`)) : resolve(stdout.trim()),
      ),
    );
    // the host end, on the event loop (tty.ReadStream polls the PTY; a silent target cannot hang us)
    const fd = openSync(b, 'r+');
    const rs = new ReadStream(fd);
    let heard = '';
    try {
      heard = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the target said nothing on the PTY: ${heard}`)),
          60_000,
        );
        target.catch((e: unknown) => {
          clearTimeout(timer);
          reject(e);
        });
        rs.on('data', (d: Buffer) => {
          heard += d.toString();
          if (heard.includes('\n')) {
            clearTimeout(timer);
            resolve(heard);
          }
        });
      });
      writeSync(fd, 'pong-from-host\n');
    } finally {
      rs.pause();
    }
    const reply = await target;
    rs.destroy();
    if (!heard.startsWith('ping-from-target') || !reply.includes('pong-from-host')) {
      throw new Error(`host heard "${heard.trim()}", target said "${reply}"`);
    }
    return `host heard "${heard.trim()}", target ${reply}`;
  } finally {
    socat.kill();
  }
}
