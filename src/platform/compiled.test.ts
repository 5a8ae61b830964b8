import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { compiledTree, runnable } from './compiled.ts';
import { projectRoot } from './project-root.ts';

const SRC = join(projectRoot(), 'src');

function files(dir: string, into: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, into);
    else into.push(path);
  }
  return into;
}

describe('the compiled tree the services run from', () => {
  it('holds every source compiled, every other file copied, and no import of a .ts file', async () => {
    const tree = join(await compiledTree(), 'src');
    const sources = files(SRC).filter((f) => !/\.test\.tsx?$/.test(f));
    for (const f of sources) {
      const copied = !/\.tsx?$/.test(f) || f.endsWith('.d.ts');
      const path = join(tree, relative(SRC, f));
      const expected = copied ? path : path.replace(/\.tsx?$/, '.js');
      assert.ok(existsSync(expected), `missing ${relative(SRC, f)} in the compiled tree`);
    }
    const offenders = files(tree)
      .filter((f) => f.endsWith('.js') && !f.includes('/static/'))
      .filter((f) => /(from|import)\s*\(?\s*["']\.{1,2}\/[^"']+\.tsx?["']/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('gives a party its compiled main.js run by plain Node, or the source through tsx when asked', async () => {
    const compiled = await runnable('gateway/main.ts', {});
    assert.match(compiled.file, /\/src\/gateway\/main\.js$/);
    assert.ok(existsSync(compiled.file));
    assert.equal(compiled.execArgv.includes('tsx'), false);
    const source = await runnable('gateway/main.ts', { COUNTERSIGN_RUN_TS: '1' });
    assert.equal(source.file, join(SRC, 'gateway/main.ts'));
    assert.deepEqual(source.execArgv, ['--import', 'tsx']);
  });

  it("npm test's tree also holds test/, bench/ and scripts/ with their test files; the services' holds no test", async () => {
    const tests = await compiledTree('tests');
    for (const file of ['test/architecture.test.js', 'src/platform/compiled.test.js', 'bench/run.js']) {
      assert.ok(existsSync(join(tests, file)), `missing ${file} in the tests' tree`);
    }
    assert.ok(existsSync(join(tests, 'scripts/client-generate.js')) && existsSync(join(tests, 'scripts/test.mjs')));
    const services = await compiledTree();
    assert.notEqual(services, tests);
    assert.equal(existsSync(join(services, 'test')), false);
    assert.deepEqual(
      files(join(services, 'src')).filter((f) => /\.test\.js$/.test(f)),
      [],
    );
  });

  it("leaves out what the bench keeps in bench/.baseline: a baseline's checkout and its packages", async () => {
    // Left there by `npm run bench -- --baseline <ref>` when the ref's lockfile differs: packages that
    // ship TypeScript esbuild cannot compile alone (this line is @redocly/ajv's), and a whole src/.
    const kept = join(projectRoot(), 'bench', '.baseline', `compiled-test-${process.pid}`);
    const broken = "import equal from 'somewhere';\n(equal as { code?: string }).code = 'x';\n";
    try {
      for (const dir of ['node_modules/some-package/lib', 'src']) mkdirSync(join(kept, dir), { recursive: true });
      writeFileSync(join(kept, 'node_modules/some-package/lib/equal.ts'), broken);
      writeFileSync(join(kept, 'src/main.ts'), broken);
      const tests = await compiledTree('tests');
      assert.equal(existsSync(join(tests, 'bench', '.baseline')), false);
      assert.ok(existsSync(join(tests, 'bench', 'run.js')));
    } finally {
      rmSync(kept, { recursive: true, force: true });
      // bench/.baseline itself too when nothing else is in it (rmdir refuses a directory in use).
      try {
        rmdirSync(dirname(kept));
      } catch {}
    }
  });

  it('returns the same tree while the sources are unchanged', async () => {
    assert.equal(await compiledTree(), await compiledTree());
  });
});
