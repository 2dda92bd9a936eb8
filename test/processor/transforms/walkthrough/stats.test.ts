import { ProfileFields, codePointCount, readEscapedProfile, readProfile } from '../../../../processor/src/transforms/walkthrough/profile';
import { ageGroup, salaryCategory } from '../../../../processor/src/transforms/walkthrough/schema';
import {
  CompensatedMean, DEPARTMENT_IDS_LIMIT, DepartmentIds, DepartmentStatistics, DepartmentTable, Float64Column, NO_DEPARTMENT_ID,
} from '../../../../processor/src/transforms/walkthrough/stats';

describe('Float64Column', () => {
  test('grows past its initial capacity, into an array of its own', () => {
    const initial = new Float64Array(2);
    const column = new Float64Column(initial);
    column.push(9);
    column.push(7);
    expect(column.grown).toBe(false);
    expect(Array.from(initial)).toEqual([9, 7]);
    [5, 3, 1].forEach((v) => column.push(v));
    expect(column.grown).toBe(true);
    expect(Array.from(column.values())).toEqual([9, 7, 5, 3, 1]);
  });
});

describe('CompensatedMean (pandas group_mean)', () => {
  test('keeps the low-order bits a naive sum loses', () => {
    const values = [1e16, 1, 1, 1, 1, -1e16];
    const mean = new CompensatedMean();
    values.forEach((v) => mean.add(v));
    const naive = values.reduce((a, b) => a + b, 0) / values.length;
    expect(naive).toBe(0);
    expect(mean.value()).toBeCloseTo(4 / 6, 12);
  });

  test('skips NaN and is NaN with no values', () => {
    const mean = new CompensatedMean();
    expect(mean.value()).toBeNaN();
    mean.add(NaN);
    mean.add(3);
    expect(mean.value()).toBe(3);
  });

  test('departments sort by their bytes and decode as UTF-8', () => {
    const ids = new DepartmentIds();
    const names = ['Sales', 'Ärzte', 'IT', 'Unknown', 'HR', 'IT'];
    const idOf = (name: string): number => {
      const b = Buffer.from(`[${name}]`);
      return ids.idOf(b, 1, b.length - 1);
    };
    const rowIds = names.map(idOf);
    expect(rowIds[2]).toBe(rowIds[5]);
    const stats = new DepartmentStatistics(ids.keys);
    rowIds.forEach((id, i) => stats.add(id, 1000 * (i + 1), 20 + i));
    expect(stats.rows()).toEqual([
      { department: 'HR', averageSalary: 5000, averageAge: 24 },
      { department: 'IT', averageSalary: 4500, averageAge: 23.5 },
      { department: 'Sales', averageSalary: 1000, averageAge: 20 },
      { department: 'Unknown', averageSalary: 4000, averageAge: 23 },
      { department: 'Ärzte', averageSalary: 2000, averageAge: 21 },
    ]);
  });
});

describe('DepartmentTable', () => {
  test('maps each thread\'s department ids to one numbering; departments without rows are not listed', () => {
    const table = new DepartmentTable();
    // Thread 0 met IT then HR; thread 1 met HR, then (in a range parsed again after a missed cut) Ghost, then IT.
    table.register(0, 0, ['IT', 'HR']);
    table.register(1, 0, ['HR']);
    table.register(1, 1, ['Ghost', 'IT']);
    expect(table.keys).toEqual(['IT', 'HR', 'Ghost']);
    expect(table.idsOf(0)).toEqual([0, 1]);
    expect(table.idsOf(1)).toEqual([1, 2, 0]);
    expect(table.idsOf(7)).toEqual([]);
    const stats = new DepartmentStatistics(table.keys);
    stats.add(table.idsOf(1)[0], 100, 30);
    stats.add(table.idsOf(0)[0], 200, NaN);
    expect(stats.rows()).toEqual([
      { department: 'HR', averageSalary: 100, averageAge: 30 },
      { department: 'IT', averageSalary: 200, averageAge: NaN },
    ]);
  });

  test('keeps the UTF-8 bytes of each department for the spilled table', () => {
    const table = new DepartmentTable();
    table.register(0, 0, [Buffer.from('Ärzte').toString('latin1')]);
    expect(table.keyBytes(0)).toEqual(Buffer.from('Ärzte'));
  });
});

describe('DepartmentIds: bounded whatever the number of departments', () => {
  const idOf = (ids: DepartmentIds, name: string): number => {
    const b = Buffer.from(name);
    return ids.idOf(b, 0, b.length);
  };

  test('numbers at most its limit of departments; a later new one gets NO_DEPARTMENT_ID and marks the table overflowed', () => {
    const ids = new DepartmentIds(2);
    expect([idOf(ids, 'IT'), idOf(ids, 'HR'), idOf(ids, 'IT')]).toEqual([0, 1, 0]);
    expect(ids.overflowed).toBe(false);
    expect(idOf(ids, 'Sales')).toBe(NO_DEPARTMENT_ID);
    expect(ids.overflowed).toBe(true);
    // Departments it numbered keep their ids; the table holds no more keys.
    expect([idOf(ids, 'HR'), idOf(ids, 'Sales'), idOf(ids, 'Ops')]).toEqual([1, NO_DEPARTMENT_ID, NO_DEPARTMENT_ID]);
    expect(ids.keys).toEqual(['IT', 'HR']);
  });

  test('the default limit keeps a thread\'s table to DEPARTMENT_IDS_LIMIT departments', () => {
    const ids = new DepartmentIds();
    for (let i = 0; i < DEPARTMENT_IDS_LIMIT + 100; i++) idOf(ids, `Dept_${i}`);
    expect(ids.keys.length).toBe(DEPARTMENT_IDS_LIMIT);
    expect(ids.overflowed).toBe(true);
  });
});

describe('bins', () => {
  test.each([
    [0, 'low'], [50000, 'low'], [50000.01, 'medium'], [70000, 'medium'], [70000.5, 'high'], [100000, 'high'],
    [100000.5, ''], [-5, ''], [NaN, ''],
  ])('salary %d is %j', (salary, category) => {
    expect(salaryCategory(salary)).toBe(category);
  });

  test.each([
    [0, 'Young'], [25, 'Young'], [25.5, 'Early Career'], [35, 'Early Career'], [35.1, 'Mid Career'], [45, 'Mid Career'],
    [45.5, 'Senior'], [55, 'Senior'], [55.5, 'Experienced'], [120, 'Experienced'], [-1, ''], [NaN, ''],
  ])('age %d is %j', (age, group) => {
    expect(ageGroup(age)).toBe(group);
  });
});

describe('profile', () => {
  const read = (json: string) => {
    const out = new ProfileFields();
    const buf = Buffer.from(json);
    const reason = readProfile(buf, 0, buf.length, out);
    const values = [0, 1, 2].map((k) => out.bufs[k].toString('utf8', out.starts[k], out.ends[k]));
    return { reason, values };
  };

  test('the walkthrough shape is read without a JSON parser, with the same result', () => {
    expect(read('{"address": "Street 9, City 4", "phone": "5551234567", "email": "email_3@example.com"}'))
      .toEqual({ reason: undefined, values: ['Street 9, City 4', '5551234567', 'email_3@example.com'] });
  });

  test('the same shape without one or two keys is read without a JSON parser too', () => {
    const out = new ProfileFields();
    const partial = Buffer.from('{"phone": "1", "email": "e"}');
    expect(readProfile(partial, 0, partial.length, out)).toBeUndefined();
    expect(out.decoded).toBe(false);
    expect(out.bufs[1]).toBe(partial);
    expect(read('{"phone": "1", "email": "e"}')).toEqual({ reason: undefined, values: ['', '1', 'e'] });
    expect(read('{"address": "a", "email": "e"}')).toEqual({ reason: undefined, values: ['a', '', 'e'] });
    expect(read('{"email": "e"}')).toEqual({ reason: undefined, values: ['', '', 'e'] });
    // Not that shape: a repeated key (the last one wins, as in Python) and another order.
    expect(read('{"address": "a", "address": "b"}')).toEqual({ reason: undefined, values: ['b', '', ''] });
    expect(read('{"email": "e", "phone": "1"}')).toEqual({ reason: undefined, values: ['', '1', 'e'] });
  });

  test('anything else is parsed as JSON: escapes, order, spacing, missing keys, nulls', () => {
    expect(read('{"email":"e@x","address":"A \\"quoted\\" \\u00e9"}')).toEqual({ reason: undefined, values: ['A "quoted" é', '', 'e@x'] });
    expect(read('{ "address" : null , "phone": "1" }')).toEqual({ reason: undefined, values: ['', '1', ''] });
    expect(read('{}')).toEqual({ reason: undefined, values: ['', '', ''] });
  });

  test('values that are not strings are Python\'s str() of them; NaN is missing; decoded values are marked', () => {
    expect(read('{"phone": 5551234567, "tags": ["x", 1.0], "address": 1.50, "email": NaN}')).toEqual({ reason: undefined, values: ['1.5', '5551234567', ''] });
    const out = new ProfileFields();
    const plain = Buffer.from('{"address": "a", "phone": "b", "email": "c"}');
    readProfile(plain, 0, plain.length, out);
    expect(out.decoded).toBe(false);
    const escaped = Buffer.from('{"address": "\\u00e9", "phone": "b", "email": "c"}');
    readProfile(escaped, 0, escaped.length, out);
    expect(out.decoded).toBe(true);
  });

  test.each([
    ['[1, 2]', 'profile is not a JSON object (found an array)'],
    ['{"address": ["x", 1.0]}', 'profile.address is a JSON list, not a value'],
    ['{"address": "a", "email": {"b": 1}}', 'profile.email is a JSON object, not a value'],
    ['"text"', 'profile is not a JSON object (found string)'],
    ['5', 'profile is not a JSON object (found number)'],
    ['null', 'profile is not a JSON object (found null)'],
    ['{oops}', 'profile is not a JSON object (invalid JSON: expecting property name enclosed in double quotes at character 1)'],
    ['{"address": "a", "phone": "b", "email": "c"} trailing', 'profile is not a JSON object (invalid JSON: extra data at character 45)'],
    ['{"email": "\\ud800"}', 'profile.email contains an unpaired UTF-16 surrogate'],
  ])('%s is rejected: %s', (json, reason) => {
    expect(read(json).reason).toBe(reason);
  });

  test('the walkthrough shape is also read from the escaped CSV field; other shapes are left to readProfile', () => {
    const escaped = (json: string) => {
      const out = new ProfileFields();
      const buf = Buffer.from(json.replace(/"/g, '""'));
      const matched = readEscapedProfile(buf, 0, buf.length, out);
      return { matched, values: [0, 1, 2].map((k) => out.bufs[k].toString('utf8', out.starts[k], out.ends[k])) };
    };
    expect(escaped('{"address": "Street 9, City 4", "phone": "5551234567", "email": "e@x"}'))
      .toEqual({ matched: true, values: ['Street 9, City 4', '5551234567', 'e@x'] });
    expect(escaped('{"address": "A \\"B\\"", "phone": "1", "email": "e"}').matched).toBe(false);
    expect(escaped('{"phone": "1", "address": "A", "email": "e"}').matched).toBe(false);
    expect(escaped('{"phone": "1", "email": "e"}')).toEqual({ matched: true, values: ['', '1', 'e'] });
    expect(escaped('{"address": "A", "phone": "1"} ').matched).toBe(false);
    expect(escaped('{"address": "A", "phone": "1", "email": "e"} ').matched).toBe(false);
  });

  test('address_length counts code points, as Python len does', () => {
    const b = Buffer.from('Ünïcödé 🚀');
    expect(codePointCount(b, 0, b.length)).toBe(9);
  });
});
