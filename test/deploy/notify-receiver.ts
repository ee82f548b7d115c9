/**
 * A stand-in for systemd's notification socket: a real unix datagram socket,
 * read by a small python3 process (Node cannot read unix datagrams either).
 * It reads without room for ancillary data, so the fd that systemd-notify
 * passes with BARRIER=1 is closed by the kernel, which is exactly what releases
 * systemd-notify's barrier wait under the real manager.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('listening', flush=True)
while True:
    data, _, _, _ = s.recvmsg(65536)
    print(data.decode(errors='replace').replace('\\n', '|'), flush=True)
`;

export interface NotifyReceiver {
  socket: string;
  /** one entry per datagram, its lines joined with '|' */
  messages: string[];
  close(): void;
}

export async function startNotifyReceiver(dir: string): Promise<NotifyReceiver> {
  const socket = join(dir, 'notify.sock');
  const proc: ChildProcess = spawn('python3', ['-c', RECEIVER, socket], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const messages: string[] = [];
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    let listening = false;
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        if (!listening && line === 'listening') {
          listening = true;
          resolve();
        } else messages.push(line);
      }
    });
    proc.once('exit', (code) => reject(new Error(`notify receiver exited with ${code}: ${err}`)));
    proc.once('error', reject);
  });
  return { socket, messages, close: () => proc.kill('SIGKILL') };
}
