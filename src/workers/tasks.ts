import type { LoadedPlugin } from '../../kit/definition.js';
import { createEvaluator, type EvalOutcome, type EvaluationLimits } from '../../kit/evaluate.js';
import { AppError } from '../errors.js';
import { transformItems } from '../mapping/transform-calls.js';
import type { ValidatedAssertion } from '../saml/assertion.js';
import { readIncomingResponse } from '../saml/incoming.js';
import { createSamlValidator } from '../saml/validator.js';
import { type Job, type JobResult, Phase, type Progress, type SerializedError } from './protocol.js';

export interface TaskRunner {
  run(job: Job): Promise<JobResult>;
}

function serialize(e: unknown): SerializedError {
  return e instanceof AppError
    ? { code: e.code, message: e.message, details: e.details, unexpected: false }
    : {
        code: 'INTERNAL',
        message: e instanceof Error ? e.message : String(e),
        details: {},
        unexpected: true,
      };
}

/**
 * Runs jobs: the same code in a worker thread (the pool's) and, for tools, in the calling thread.
 * A validation reads and verifies the response (hygiene, guards, signatures, the verified read);
 * the transforms then run on what it read, one after another, each publishing its start in
 * `progress` so that the main thread can stop a runaway at its deadline.
 */
export function createTaskRunner(
  plugins: readonly LoadedPlugin[],
  limits: EvaluationLimits,
  progress?: Progress,
): TaskRunner {
  const evaluator = createEvaluator(plugins, limits);
  // One validator per SP identity (in practice one): each keeps its connections' parsed keys.
  const validators = new Map<string, ReturnType<typeof createSamlValidator>>();
  const validatorFor = (spEntityId: string, acsUrl: string) => {
    const key = `${spEntityId}\n${acsUrl}`;
    let validator = validators.get(key);
    if (!validator) {
      validator = createSamlValidator({ spEntityId, acsUrl });
      validators.set(key, validator);
    }
    return validator;
  };

  async function run(job: Job): Promise<JobResult> {
    const { task } = job;
    let assertion: ValidatedAssertion | undefined;
    let refusal: SerializedError | undefined;
    let validateMs = 0;
    const started = performance.now();
    let items = task.kind === 'transform' ? task.items : [];
    if (task.kind === 'validate') {
      progress?.enter(job.id, Phase.VALIDATING);
      try {
        const incoming = readIncomingResponse(task.base64, task.maxResponseBytes);
        const validator = validatorFor(task.sp.spEntityId, task.sp.acsUrl);
        assertion = await validator.validate(task.trust, incoming, task.decryptionKey);
        if (task.transforms) items = transformItems(task.transforms, assertion);
      } catch (e) {
        refusal = serialize(e);
      }
      validateMs = performance.now() - started;
    }
    const transforming = performance.now();
    const outcomes: (EvalOutcome | null)[] = [];
    if (items.length > 0) progress?.enter(job.id, Phase.TRANSFORMING);
    const skip = new Set(job.skip);
    for (const [index, item] of items.entries()) {
      if (skip.has(index)) {
        outcomes.push(null);
        continue;
      }
      progress?.item(index);
      outcomes.push(
        await evaluator.evaluate(item.plugin, item.params, item.input).catch(
          (e: unknown): EvalOutcome => ({
            ok: false,
            code: 'TRANSFORM_FAILED',
            reason: 'error',
            message: `transform plugin "${item.plugin}": ${e instanceof Error ? e.message : String(e)}`,
          }),
        ),
      );
    }
    progress?.idle();
    return {
      type: 'done',
      id: job.id,
      ...(assertion ? { assertion } : {}),
      ...(refusal ? { refusal } : {}),
      outcomes,
      validateMs,
      transformMs: items.length > 0 ? performance.now() - transforming : 0,
    };
  }

  return { run };
}
