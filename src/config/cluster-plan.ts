import { ConfigError } from './config.js';

export interface ClusterPlan {
  processes: number;
  threads: number;
  cores: number;
}

/** Processes and threads per process for `cores` cores: processes × threads ≤ cores. */
export function planCluster(cores: number, env: NodeJS.ProcessEnv): ClusterPlan {
  const asked = env.CLUSTER_PROCESSES === undefined ? cores : Number(env.CLUSTER_PROCESSES);
  if (!Number.isInteger(asked) || asked < 1 || asked > 256) {
    throw new ConfigError('invalid environment:\n  CLUSTER_PROCESSES: a whole number from 1 to 256');
  }
  const threads =
    env.WORKER_THREADS === undefined ? Math.max(1, Math.floor(cores / asked)) : Number(env.WORKER_THREADS);
  return { processes: asked, threads, cores };
}
