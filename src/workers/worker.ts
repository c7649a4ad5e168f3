/**
 * Worker-thread entry: loads the plugins itself (the same checks as the main thread), then runs one
 * job at a time — a SAML validation with the sign-in's transforms after it, or transforms alone.
 * The main thread terminates this thread when a job overruns its deadline (see pool.ts), which is
 * what stops runaways that JSONata's own timeout cannot see.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isPluginLoadError } from '../../kit/errors.js';
import { pluginKey } from '../plugins/catalog.js';
import { loadDefinitions } from '../plugins/discover.js';
import { type Job, Progress, type WorkerInit, type WorkerMessage } from './protocol.js';
import { createTaskRunner } from './tasks.js';

const port = parentPort;
if (!port) throw new Error('the jitprov worker must run in a worker thread');
const init = workerData as WorkerInit;
const post = (message: WorkerMessage): void => port.postMessage(message);

try {
  const plugins = await loadDefinitions(init.pluginDir);
  const keys = plugins.map(pluginKey).sort();
  const seen = keys.join(', ');
  const expected = init.expected ? [...init.expected].sort().join(', ') : seen;
  if (seen !== expected) {
    // The files changed on disk since the server loaded them: never run other code than it checked.
    post({
      type: 'load-error',
      code: 'PLUGIN_WORKER_FAILED',
      file: init.pluginDir,
      fault: `plugins changed since the server started (loaded: ${seen}; expected: ${expected}); restart the server`,
    });
  } else {
    const runner = createTaskRunner(plugins, init.limits, new Progress(init.progress));
    port.on('message', async (job: Job) => post(await runner.run(job)));
    post({ type: 'ready', keys });
  }
} catch (e) {
  if (isPluginLoadError(e)) post({ type: 'load-error', code: e.code, file: e.file, fault: e.fault });
  else post({ type: 'load-error', code: 'PLUGIN_WORKER_FAILED', file: init.pluginDir, fault: String(e) });
}
