import { reusableJson, reusedText } from 'src/common/http/reusable-json';

describe('reusable JSON bodies', () => {
  it('a reusable body is serialized once and its text reused; any other payload is left to the route serializer', () => {
    const serialize = jest.fn((p: unknown) => JSON.stringify(p));
    expect(reusedText({ a: 1 }, serialize)).toBeNull();
    expect(reusedText(null, serialize)).toBeNull();
    expect(reusedText('text', serialize)).toBeNull();
    expect(serialize).not.toHaveBeenCalled();
    const page = reusableJson({ patients: [{ id: 'p1', name: 'Ada' }], total_count: 1 });
    const first = reusedText(page, serialize);
    const second = reusedText(page, serialize);
    expect(first).toBe('{"patients":[{"id":"p1","name":"Ada"}],"total_count":1}');
    expect(second).toBe(first);
    expect(serialize).toHaveBeenCalledTimes(1);
    // The mark is invisible to anything that walks the body (the audit's patient ids, JSON itself).
    expect(Object.keys(page)).toEqual(['patients', 'total_count']);
  });
});
