import type { TransformInput } from '../../kit/index.js';
import type { Workers } from '../../src/workers/workers.js';

/** One transform through the workers: its value, or the TransformError it failed with (thrown). */
export async function evaluate(
  workers: Pick<Workers, 'transform'>,
  plugin: string,
  params: unknown,
  input: TransformInput,
): Promise<unknown> {
  const [result] = await workers.transform([{ plugin, params, input }]);
  if (!result) throw new Error('no result');
  if (result.ok) return result.value;
  throw result.error;
}
