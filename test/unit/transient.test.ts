import { describe, expect, it } from 'vitest';
import { transientDelayMs } from '../../src/provisioning/transient.js';

describe('the pause before a transaction runs again', () => {
  it('grows with the attempt, is jittered from zero, and is capped', () => {
    expect(transientDelayMs(1, () => 0)).toBe(0);
    expect(transientDelayMs(1, () => 0.999)).toBe(9);
    expect(transientDelayMs(3, () => 0.999)).toBe(39);
    expect(transientDelayMs(10, () => 0.999)).toBe(79);
    const total = [1, 2, 3, 4].reduce((sum, a) => sum + transientDelayMs(a, () => 0.999), 0);
    expect(total).toBeLessThanOrEqual(150);
  });
});
