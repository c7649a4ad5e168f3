// `npm run build`: the server as plain JavaScript in build/, so that `npm start` does not compile
// TypeScript at every start (a restart after a crash is downtime):
//
//   build/server/   src/server.ts bundled with the packages it uses (one file to read and compile
//   build/cluster/  instead of ~1,500 modules to resolve: what makes the start fast), code loaded on
//   build/worker/   demand split into chunks; the worker thread and the cluster entry likewise.
//   build/kit/, build/plugins/   the plugin kit and the plugins, file by file: a plugin imports the
//                   kit (../kit/index.js) and must meet the same module the bundles load, so the
//                   bundles leave the kit outside and import it from here.
//
// Packages that find their own files at run time (PGlite's WebAssembly, recheck's worker, the
// GraphiQL page) stay in node_modules. Types are checked by `npm run typecheck`, not here. Plain
// JavaScript so that it runs before anything is compiled; `--if-stale` builds only when a source
// is newer than the last build (what `npm start` asks for).
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = path.join(root, 'build');
const stamp = path.join(out, '.built');
const SOURCES = ['src', 'kit', 'migrations', 'plugins'];
const NOT_SHIPPED = /\.(?:test|spec)\.ts$|\.d\.ts$/;

function files(dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

function stale() {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const inputs = [
    ...SOURCES.flatMap(files),
    path.join(root, 'package-lock.json'),
    fileURLToPath(import.meta.url),
  ];
  return inputs.some((f) => statSync(f).mtimeMs > built);
}

if (process.argv.includes('--if-stale') && !stale()) process.exit(0);

const started = performance.now();
const { build } = await import('esbuild');
rmSync(out, { recursive: true, force: true });

const common = {
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
};

// The kit and the plugins, file by file.
const perFile = ['kit', 'plugins'].flatMap(files).filter((f) => f.endsWith('.ts') && !NOT_SHIPPED.test(f));
await build({ ...common, entryPoints: perFile, outdir: out, outbase: root });

const kitDir = path.join(root, 'kit');
/** The kit stays outside the bundles: imported from build/kit/ (every bundle folder sits beside it). */
const kitOutside = {
  name: 'kit-outside',
  setup(b) {
    b.onResolve({ filter: /\/kit\// }, (args) => {
      const file = path.resolve(args.resolveDir, args.path);
      if (!file.startsWith(`${kitDir}${path.sep}`)) return undefined;
      return { path: `../kit/${path.relative(kitDir, file).split(path.sep).join('/')}`, external: true };
    });
  },
};
const external = [
  // Drivers knex and MikroORM name but jitprov does not use.
  'pg-native',
  'pg-query-stream',
  'better-sqlite3',
  'sqlite3',
  'mysql',
  'mysql2',
  'mariadb',
  'mariadb/*',
  'oracledb',
  'tedious',
  'libsql',
  '@mikro-orm/entity-generator',
  '@mikro-orm/seeder',
  '@mikro-orm/cli',
  'ts-node',
  'typescript',
  '@swc/*',
  'tsx',
  'tsx/*',
  // Packages that load their own files at run time.
  '@electric-sql/*',
  'recheck',
  '@graphql-yoga/render-graphiql',
];
// Bundled CommonJS calls require(): give the ESM bundle one.
const banner = {
  js: "import { createRequire as __jitprovRequire } from 'node:module'; const require = __jitprovRequire(import.meta.url);",
};
const entries = { server: 'src/server.ts', cluster: 'src/cluster.ts', worker: 'src/workers/worker.ts' };
await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      ...common,
      entryPoints: { [name]: path.join(root, entry) },
      outdir: path.join(out, name),
      bundle: true,
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      external,
      banner,
      plugins: [kitOutside],
    }),
  ),
);
writeFileSync(stamp, `${new Date().toISOString()}\n`);
if (!process.argv.includes('--quiet')) {
  console.log(
    `build/: server, cluster and worker bundles, ${perFile.length} kit and plugin files, in ${Math.round(performance.now() - started)} ms`,
  );
}
