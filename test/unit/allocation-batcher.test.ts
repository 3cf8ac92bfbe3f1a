import { describe, expect, it } from 'vitest';
import { AllocationBatcher, type Settled } from '../../src/api/allocation-batcher.js';

/** A coordinator stand-in: numbers what it is sent, in order, once the test lets each batch through. */
function numbering(inFlight: number, maxBatch = 100) {
  const batches: string[][] = [];
  const release: (() => void)[] = [];
  let next = 0;
  const batcher = new AllocationBatcher<string, string>({
    inFlight,
    maxBatch,
    send: async (key, requests) => {
      batches.push(requests);
      await new Promise<void>((resolve) => release.push(resolve));
      return requests.map((r): Settled<string> =>
        r === 'bad' ? { ok: false, error: new Error('refused') } : { ok: true, value: `${key}-${++next}:${r}` },
      );
    },
  });
  return { batcher, batches, release: () => release.shift()!() };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('the allocation batcher', () => {
  it('sends the requests that arrive while its places are taken as one batch, in the order they came', async () => {
    const { batcher, batches, release } = numbering(1);
    const answers = ['a', 'b', 'c', 'd'].map((r) => batcher.request('web', r));
    await tick();
    expect(batches).toEqual([['a']]);
    release();
    await tick();
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    release();
    expect(await Promise.all(answers)).toEqual(['web-1:a', 'web-2:b', 'web-3:c', 'web-4:d']);
  });

  it('keeps as many batches in flight as it may, each key on its own, and no batch over the most', async () => {
    const { batcher, batches, release } = numbering(2, 2);
    const answers = ['a', 'b', 'c', 'd', 'e'].map((r) => batcher.request('web', r));
    const other = batcher.request('api', 'x');
    await tick();
    expect(batches).toEqual([['a'], ['b'], ['x']]);
    release();
    await tick();
    expect(batches.slice(3)).toEqual([['c', 'd']]);
    for (let i = 0; i < 4; i++) {
      release();
      await tick();
    }
    expect(batches.slice(4)).toEqual([['e']]);
    expect(await Promise.all([...answers, other])).toHaveLength(6);
  });

  it('refuses only the request refused, and every request of a batch that failed whole', async () => {
    const { batcher, release } = numbering(1);
    const first = batcher.request('web', 'a');
    const [good, bad] = [batcher.request('web', 'b'), batcher.request('web', 'bad')];
    release();
    await first;
    await tick();
    release();
    expect(await good).toBe('web-2:b');
    await expect(bad).rejects.toThrow('refused');

    const failing = new AllocationBatcher<string, string>({
      inFlight: 1,
      maxBatch: 10,
      send: () => Promise.reject(new Error('coordinator gone')),
    });
    const all = ['a', 'b'].map((r) => failing.request('web', r));
    for (const answer of all) await expect(answer).rejects.toThrow('coordinator gone');
  });
});
