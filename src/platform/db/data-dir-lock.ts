// One process at a time on an embedded (PGlite) data directory. PGlite runs PostgreSQL inside the
// process and keeps no lock of its own between processes: a second process opening the same
// directory (`npm start` run twice, or `countersign audit verify` while the shop runs) works on its own
// copy of the pages and writes them back at close, and the first one's database is then corrupt.
// The lock is a file beside the directory holding the owner's pid, checked the way PostgreSQL checks
// postmaster.pid: a lock whose process is gone (killed, crashed) is stale and taken over. Written here
// rather than with proper-lockfile, whose staleness is a timeout refreshed by a timer in each process:
// the pid says at once whether the owner is alive, and the owner needs no timer.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/** A data directory in use by another live process. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database at ${dataDir} is in use by process ${pid} (another \`npm start\` or countersign command): stop it first, or point DATA_DIR elsewhere`,
    );
    this.name = 'DataDirInUseError';
  }
}

const lockPath = (dataDir: string) => `${dataDir.replace(/\/+$/, '')}.lock`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but is someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // gone meanwhile, or not written yet
  }
}

/**
 * Takes the lock of `dataDir` for this process and returns its release. Refuses with
 * DataDirInUseError while another live process holds it. The same process may open the directory
 * once only (a second PGlite on it in one process corrupts it just the same).
 */
export function lockDataDir(dataDir: string): () => void {
  const path = lockPath(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = ownerOf(path);
      if (pid !== undefined && alive(pid)) throw new DataDirInUseError(dataDir, pid);
      // Stale: its process is gone (or it holds no pid: a process killed between create and write).
      // Remove it only if it is still the same stale file, then try again. Two processes taking over
      // the same dead lock at the same instant could both get through; not worth a heavier scheme.
      if (ownerOf(path) === pid) {
        try {
          unlinkSync(path);
        } catch {
          // another process removed it first
        }
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (ownerOf(path) === process.pid) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    };
  }
  throw new Error(`could not take the lock ${path}: it kept changing hands`);
}
