import { describe, expect, it } from 'vitest';
import { serverTiming } from '../../scripts/bench/load.js';

describe("the bench's Server-Timing reader", () => {
  it('reads each stage with a duration, in order, and skips entries without one', () => {
    expect(
      serverTiming('validation;dur=1.25, transforms;dur=0.5, db;desc="x";dur=3, cache, acs;dur=7'),
    ).toEqual([
      ['validation', 1.25],
      ['transforms', 0.5],
      ['db', 3],
      ['acs', 7],
    ]);
    expect(serverTiming(undefined)).toEqual([]);
    expect(serverTiming('')).toEqual([]);
  });
});
