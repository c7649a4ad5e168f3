/**
 * Worker-thread entry: loads the plugins itself (same checks as the main thread), then evaluates
 * one request (one or several evaluations, in order) at a time. The main thread terminates this
 * thread when a request overruns its hard deadline, which is what stops runaways JSONata's own
 * timeout cannot see.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isPluginLoadError } from '../../kit/errors.js';
import { createEvaluator, type EvalOutcome } from '../../kit/evaluate.js';
import { loadDefinitions } from './discover.js';
import { type EvalRequest, pluginKey, type WorkerInit, type WorkerMessage } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('the plugin worker must run in a worker thread');
const init = workerData as WorkerInit;
const post = (message: WorkerMessage): void => port.postMessage(message);

try {
  const plugins = await loadDefinitions(init.dir);
  const keys = plugins.map(pluginKey).sort();
  const seen = keys.join(', ');
  const expected = init.expected ? [...init.expected].sort().join(', ') : seen;
  if (seen !== expected) {
    // The files changed on disk since the server loaded them: never run other code than it checked.
    post({
      type: 'load-error',
      code: 'PLUGIN_WORKER_FAILED',
      file: init.dir,
      fault: `plugins changed since the server started (loaded: ${seen}; expected: ${expected}); restart the server`,
    });
  } else {
    const evaluator = createEvaluator(plugins, init.limits);
    port.on('message', async (req: EvalRequest) => {
      const outcomes: EvalOutcome[] = [];
      for (const item of req.items) {
        outcomes.push(
          await evaluator.evaluate(item.plugin, item.params, item.input).catch((e: unknown) => ({
            ok: false as const,
            code: 'TRANSFORM_FAILED' as const,
            reason: 'error' as const,
            message: `transform plugin "${item.plugin}": ${e instanceof Error ? e.message : String(e)}`,
          })),
        );
      }
      post({ type: 'result', id: req.id, outcomes });
    });
    post({ type: 'ready', keys });
  }
} catch (e) {
  if (isPluginLoadError(e)) post({ type: 'load-error', code: e.code, file: e.file, fault: e.fault });
  else post({ type: 'load-error', code: 'PLUGIN_WORKER_FAILED', file: init.dir, fault: String(e) });
}
