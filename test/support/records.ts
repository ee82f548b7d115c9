/** Reads what a file sink wrote: every RecordEnvelope, oldest file first. */
import { readFileSync } from 'node:fs';
import type { RecordEnvelope } from '../../gateway/src/contracts/record.js';
import { listSinkFiles } from '../../gateway/src/forward/sinks/file/sink.js';

export async function readFileSink(dir: string): Promise<RecordEnvelope[]> {
  let files: string[];
  try {
    files = await listSinkFiles(dir);
  } catch {
    return [];
  }
  const out: RecordEnvelope[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (line.trim()) out.push(JSON.parse(line) as RecordEnvelope);
    }
  }
  return out;
}
