#!/usr/bin/env node
// The `countersign` bin: the TypeScript sources run through tsx (a dependency), as `npm start` does.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
