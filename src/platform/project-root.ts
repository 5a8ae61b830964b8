// The project's root directory: the nearest one above this file holding a package.json. Code runs
// both from src/ and compiled from .build/<hash>/src/ (see compiled.ts), so paths outside src/ are
// found from here rather than by counting `../` from the calling file.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}
