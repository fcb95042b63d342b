/**
 * The Data API stand-in's URL grammar (tools/rest-standin/query.ts): what it parses, what it
 * refuses as malformed (PGRST100), and what it refuses as unsupported (501 naming the feature).
 */
import { describe, expect, it } from 'vitest';
import { parseCondition, parseLogic, parseOrder, parsePrefer, parseQuery, parseSelect, QueryError, Unsupported } from '../../tools/rest-standin/query.ts';

describe('select=', () => {
  it('parses columns, renames, casts, stars and one level of embedding', () => {
    expect(parseSelect('id, handle:username,n:count::text,*,host:profiles!events_host_id_fkey(username),event_cohosts!inner(*)')).toEqual([
      { kind: 'column', name: 'id', alias: null, cast: null },
      { kind: 'column', name: 'username', alias: 'handle', cast: null },
      { kind: 'column', name: 'count', alias: 'n', cast: 'text' },
      { kind: 'star' },
      { kind: 'embed', relation: 'profiles', alias: 'host', hint: 'events_host_id_fkey', inner: false, items: [{ kind: 'column', name: 'username', alias: null, cast: null }] },
      { kind: 'embed', relation: 'event_cohosts', alias: null, hint: null, inner: true, items: [{ kind: 'star' }] },
    ]);
    expect(parseSelect(null)).toEqual([{ kind: 'star' }]);
  });

  it('refuses what it does not serve, naming it', () => {
    expect(() => parseSelect('a(b(c))')).toThrow(new Unsupported('nested embedding (more than one level)'));
    expect(() => parseSelect('...profiles(username)')).toThrow(Unsupported);
    expect(() => parseSelect('data->>name')).toThrow(Unsupported);
    expect(() => parseSelect('count()')).toThrow(Unsupported);
  });

  it('refuses malformed input', () => {
    expect(() => parseSelect('id,,name')).toThrow(QueryError);
    expect(() => parseSelect('a(b')).toThrow(QueryError);
    expect(() => parseSelect('na me;drop')).toThrow(QueryError);
  });
});

describe('filters', () => {
  it('parses each operator, negation, lists with quotes and is', () => {
    expect(parseCondition('age', 'gte.18')).toEqual({ kind: 'condition', column: 'age', negated: false, operator: 'gte', value: '18' });
    expect(parseCondition('name', 'not.ilike.*jazz*')).toMatchObject({ negated: true, operator: 'ilike', value: '*jazz*' });
    expect(parseCondition('id', 'in.(1,"a,b",3)')).toMatchObject({ operator: 'in', value: ['1', 'a,b', '3'] });
    expect(parseCondition('deleted_at', 'is.NULL')).toMatchObject({ operator: 'is', value: 'null' });
  });

  it('refuses unknown operators as malformed, and known unsupported ones by name', () => {
    expect(() => parseCondition('a', 'eqq.1')).toThrow(QueryError);
    expect(() => parseCondition('a', '1')).toThrow(QueryError);
    expect(() => parseCondition('a', 'is.maybe')).toThrow(QueryError);
    expect(() => parseCondition('tags', 'cs.{a}')).toThrow(new Unsupported('the contains operator (cs)'));
    expect(() => parseCondition('body', 'fts.jazz')).toThrow(Unsupported);
    expect(() => parseCondition('a', 'eq(any).{1,2}')).toThrow(Unsupported);
  });

  it('parses nested or/and trees', () => {
    expect(parseLogic('or', '(a.eq.1,and(b.gt.2,c.not.is.null))')).toEqual({
      kind: 'logic', op: 'or', negated: false, children: [
        { kind: 'condition', column: 'a', negated: false, operator: 'eq', value: '1' },
        { kind: 'logic', op: 'and', negated: false, children: [
          { kind: 'condition', column: 'b', negated: false, operator: 'gt', value: '2' },
          { kind: 'condition', column: 'c', negated: true, operator: 'is', value: 'null' },
        ] },
      ],
    });
    expect(parseLogic('not.and', '(a.eq.1)')).toMatchObject({ op: 'and', negated: true });
    expect(() => parseLogic('or', 'a.eq.1')).toThrow(QueryError);
  });
});

describe('order, ranges, Prefer and the whole query', () => {
  it('parses order terms', () => {
    expect(parseOrder('starts_at.desc.nullslast,id')).toEqual([
      { column: 'starts_at', direction: 'desc', nulls: 'last' }, { column: 'id', direction: 'asc', nulls: null },
    ]);
    expect(() => parseOrder('id.sideways')).toThrow(QueryError);
    expect(() => parseOrder('profiles(username)')).toThrow(Unsupported);
  });

  it('reads Prefer and refuses what it cannot honour', () => {
    expect(parsePrefer(['return=representation', 'count=exact,resolution=merge-duplicates'])).toEqual({
      return: 'representation', count: 'exact', resolution: 'merge-duplicates', missing: null,
    });
    expect(() => parsePrefer('count=estimated')).toThrow(Unsupported);
    expect(() => parsePrefer('tx=rollback')).toThrow(Unsupported);
  });

  it('splits reserved parameters from filters, and refuses filters on embedded resources', () => {
    const query = parseQuery(new URLSearchParams('select=id&status=eq.published&or=(a.eq.1,b.eq.2)&order=id.desc&limit=5&offset=10'));
    expect(query.limit).toBe(5);
    expect(query.offset).toBe(10);
    expect(query.filters).toHaveLength(2);
    expect(() => parseQuery(new URLSearchParams('limit=-1'))).toThrow(QueryError);
    expect(() => parseQuery(new URLSearchParams('profiles.username=eq.x'))).toThrow(Unsupported);
  });
});
