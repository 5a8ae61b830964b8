// One process at a time on an embedded data directory: a second opener (another process, or the same
// one again) is refused while the first holds it and gets in once it has closed, with the data intact;
// a lock left by a process that died is taken over.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { DataDirInUseError } from './data-dir-lock.ts';
import { openDatabase, openExistingDatabase, rows } from './database.ts';
import { projectRoot } from '../project-root.ts';

const spec = { name: 'platform', migrationsFolder: fileURLToPath(new URL('./migrations', import.meta.url)) };

/** Opens the directory from another process and reads the rooms back; its exit code and output. */
function openFromAnotherProcess(dataDir: string): { status: number | null; out: string } {
  const script = `
    import { openExistingDatabase, rows } from ${JSON.stringify(pathToFileURL(join(projectRoot(), 'src/platform/db/database.ts')).href)};
    import { sql } from 'drizzle-orm';
    const spec = { name: 'platform', migrationsFolder: ${JSON.stringify(spec.migrationsFolder)} };
    try {
      const d = await openExistingDatabase(spec, { engine: 'pglite', dataDir: ${JSON.stringify(dataDir)} });
      const r = await rows(d.db, sql\`select room from realtime_messages order by id\`);
      console.log('rooms:' + r.map((x) => x.room).join(','));
      await d.close();
    } catch (err) {
      console.log(err.name + ': ' + err.message);
      process.exitCode = 3;
    }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('embedded data directory: one process at a time', () => {
  const root = mkdtempSync(join(tmpdir(), 'cs-datadir-lock-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a second opener, in another process or this one, until the first has closed', async () => {
    const dataDir = join(root, 'shop');
    const first = await openDatabase(spec, { engine: 'pglite', dataDir });
    await first.db.execute(sql`insert into realtime_messages (room, payload, created_at) values ('kept', '{}', now())`);

    const other = openFromAnotherProcess(dataDir);
    assert.equal(other.status, 3, other.out);
    assert.match(
      other.out,
      new RegExp(`DataDirInUseError: the embedded database at ${dataDir} is in use by process ${process.pid}`),
    );
    await assert.rejects(openExistingDatabase(spec, { engine: 'pglite', dataDir }), DataDirInUseError);
    await assert.rejects(openDatabase(spec, { engine: 'pglite', dataDir }), DataDirInUseError);

    // The refused openers left the first one's database alone: it still works, and its lock stands.
    await first.db.execute(
      sql`insert into realtime_messages (room, payload, created_at) values ('after', '{}', now())`,
    );
    await first.close();
    assert.equal(existsSync(`${dataDir}.lock`), false, 'closing releases the lock');

    const next = openFromAnotherProcess(dataDir);
    assert.equal(next.status, 0, next.out);
    assert.match(next.out, /rooms:kept,after/);
  });

  it('takes over a lock whose process is gone (a start that was killed), and releases it at close', async () => {
    const dataDir = join(root, 'gateway');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    assert.ok(dead && dead > 0);
    writeFileSync(`${dataDir}.lock`, `${dead}\n`);
    const d = await openDatabase(spec, { engine: 'pglite', dataDir });
    assert.equal(readFileSync(`${dataDir}.lock`, 'utf8').trim(), String(process.pid));
    const r = await rows<{ n: number }>(d.db, sql`select count(*)::int as n from realtime_messages`);
    assert.equal(r[0]?.n, 0);
    await d.close();
    assert.equal(existsSync(`${dataDir}.lock`), false);
  });

  it('releases the lock when the open itself fails, so a corrected retry is not locked out', async () => {
    const dataDir = join(root, 'bank');
    const broken = { name: 'platform', migrationsFolder: join(root, 'no-such-migrations') };
    await assert.rejects(openDatabase(broken, { engine: 'pglite', dataDir }));
    assert.equal(existsSync(`${dataDir}.lock`), false);
    const d = await openDatabase(spec, { engine: 'pglite', dataDir });
    await d.close();
  });
});
