// The checkpoint file: JSON lines, appended only, each line one signed checkpoint. A line is written
// with one write() on a descriptor opened for appending, then fsynced, so a crash leaves at worst a
// last line without its newline (which readers skip) and two nodes sharing the directory never
// interleave their lines.
import { constants, existsSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file in SHOP_AUDIT_CHECKPOINT_DIR that holds the shop's checkpoints. */
export function checkpointFile(dir: string): string {
  return join(dir, 'shop-audit-checkpoints.jsonl');
}

/** Appends one line and makes it durable (the file, and the directory when the file is new). */
export async function appendCheckpointLine(dir: string, line: string): Promise<void> {
  const file = checkpointFile(dir);
  const created = !existsSync(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const handle = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    await handle.write(`${line}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) {
    const directory = await open(dir, constants.O_RDONLY);
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}

/** The complete lines of the file with their 1-based numbers; undefined when there is no file. */
export async function readCheckpointLines(dir: string): Promise<Array<{ line: number; text: string }> | undefined> {
  const file = checkpointFile(dir);
  if (!existsSync(file)) return undefined;
  const text = await readFile(file, 'utf8');
  // A last line without its newline is a write still under way or cut by a crash: not a checkpoint yet.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .slice(0, -1)
    .map((t, i) => ({ line: i + 1, text: t }))
    .filter((l) => l.text.trim() !== '');
}

/** The complete lines at the end of the file, newest first (the checkpointer needs only the last). */
export async function lastCheckpointLines(dir: string, bytes = 16_384): Promise<string[]> {
  const file = checkpointFile(dir);
  if (!existsSync(file)) return [];
  const handle = await open(file, constants.O_RDONLY);
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    const complete = text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .slice(0, -1);
    // Reading from the middle of the file, the first piece may be the tail of a longer line.
    return (start > 0 ? complete.slice(1) : complete).filter((l) => l.trim() !== '').reverse();
  } finally {
    await handle.close();
  }
}
