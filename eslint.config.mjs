// ESLint runs only the type-aware promise rules that Biome cannot check reliably:
// Biome's nursery noFloatingPromises misses promises whose types come from
// node_modules (an un-awaited drizzle `db.update(...)`, `readFile`, `sleep` from
// node:timers/promises), which here are exactly the dangerous ones. Everything
// else (format, unused code, other lint rules) is Biome's job: see biome.json.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/migrations/**', 'bench/results/**', 'bench/.baseline/**', 'node_modules/**', 'data/**', '.tmp/**'],
  },
  {
    files: ['src/**/*.{ts,tsx}', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // drizzle's query builders are thenables, not Promises: an un-awaited one never runs.
          checkThenables: true,
          // node:test collects describe/test/it itself; awaiting them is not needed.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'suite', 'test', 'it'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
