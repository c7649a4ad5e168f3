import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { ADMIN_TOKEN, PUBLIC_URL } from './test-app.js';

/** What `npm start` and `npm run start:cluster` run: the compiled bundles (scripts/build.mjs). */
export const SERVER_ENTRY = 'build/server/server.js';
export const CLUSTER_ENTRY = 'build/cluster/cluster.js';

/** The node arguments for an entry: compiled JavaScript as is, TypeScript through tsx (`npm run dev`). */
export const nodeArgs = (entry: string): string[] =>
  entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];

/**
 * The real server entry as a child process (what `npm start` runs), for the tests that signal it,
 * cut its database or run several of it. It logs JSON lines; `url` is where it listens.
 */
export interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port>, from its 'jitprov listening' line. */
  url: string;
  output(): string;
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** An app-like fetch on the process: requests named by PUBLIC_URL go to its port. */
  app: { fetch(request: Request): Promise<Response> };
  kill(signal?: NodeJS.Signals): void;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** The script (default SERVER_ENTRY; a .ts file runs through tsx). */
  entry?: string;
  /** How many 'jitprov listening' lines to wait for (the cluster prints one per process). */
  listening?: number;
  timeoutMs?: number;
}

export function startServerProcess(opts: StartOptions = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, nodeArgs(opts.entry ?? SERVER_ENTRY), {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      PUBLIC_URL,
      ADMIN_TOKEN,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const want = opts.listening ?? 1;
    const urls: string[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time:\n${output}`));
    }, opts.timeoutMs ?? 120_000);
    let scanned = 0;
    const onData = (d: Buffer) => {
      output += d;
      // Whole lines only: a chunk may end inside one.
      const end = output.lastIndexOf('\n') + 1;
      for (const line of output.slice(scanned, end).split('\n')) {
        if (!line.includes('jitprov listening')) continue;
        const url = /"url":"(http:\/\/[^"]+)"/.exec(line)?.[1];
        if (url) urls.push(url);
      }
      scanned = Math.max(scanned, end);
      if (urls.length >= want) {
        clearTimeout(timer);
        const url = urls[0] as string;
        resolve({
          child,
          url,
          output: () => output,
          exited,
          app: { fetch: (request) => fetchVia(url, request) },
          kill: (signal = 'SIGTERM') => child.kill(signal),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${output}`));
    });
  });
}

/**
 * Sends a Request named by PUBLIC_URL to a real server, on a connection of its own (no keep-alive);
 * rejects after `timeoutMs` without an answer (a lost connection fails the test, not its timeout).
 */
export async function fetchVia(base: string, request: Request, timeoutMs = 60_000): Promise<Response> {
  const target = new URL(request.url);
  const url = new URL(target.pathname + target.search, base);
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: request.method, headers: { ...headers, host: target.host }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (typeof v === 'string') h.set(k, v);
            else if (Array.isArray(v)) for (const x of v) h.append(k, x);
          }
          const status = res.statusCode ?? 0;
          const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(payload, { status, headers: h }));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`no answer from ${url.pathname} in ${timeoutMs} ms`)),
    );
    req.end(body);
  });
}
