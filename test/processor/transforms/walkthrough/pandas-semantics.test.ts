/**
 * Cell semantics that follow the walkthrough's pandas (SPEC §5): missing-value tokens, spaces
 * around numbers, infinite floats, profile values as Python writes them, -0.0 in duplicate
 * counting. test/tools/pandas-parity.test.ts compares whole outputs with pandas' own; these
 * tests name each rule and the cases pandas cannot show (rows it would not read at all).
 */
import { parse } from 'csv-parse/sync';
import { MissingValues, PANDAS_NA_TOKENS } from '../../../../processor/src/transforms/walkthrough/missing';
import { HEADER, LocalRun, TempDirs, runOnCsv } from '../../helpers';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

/** Column values of the data rows of a CSV output. */
function column(run: LocalRun, output: string, name: string): string[] {
  const [header, ...rows] = parse(run.text(output)) as string[][];
  const at = header.indexOf(name);
  return rows.map((row) => row[at]);
}

describe('missing-value tokens (pandas\' default na_values)', () => {
  let run: LocalRun;
  beforeAll(async () => {
    run = await runOnCsv(temp, [
      HEADER,
      '1,NA,30.0,50000.0,null,"{""address"": ""x"", ""phone"": ""1"", ""email"": ""a""}",N/A,nan',
      '2,None,NaN,60000.0,#N/A,NULL,IT,-NaN',
      '3,"NA",40.0,None,<NA>,n/a,HR,1.#IND',
      '4,na,-nan,70000.0,#N/A N/A,-1.#QNAN,"null",1.#QNAN',
      '5,NA ,50.0,-1.#IND,Nan,,HR,#NA',
    ].join('\n') + '\n');
  });

  test('in text columns they are missing: an empty cell, or Unknown for the department', () => {
    expect(column(run, 'cleaned_data', 'name')).toEqual(['', '', '', 'na', 'NA ']);
    expect(column(run, 'cleaned_data', 'hire_date')).toEqual(['', '', '', '', 'Nan']);
    expect(column(run, 'cleaned_data', 'department')).toEqual(['Unknown', 'IT', 'HR', 'Unknown', 'HR']);
  });

  test('in float columns they are missing: the median fills age and salary, bonus stays empty', () => {
    expect(column(run, 'cleaned_data', 'age')).toEqual(['30.0', '40.0', '40.0', '40.0', '50.0']);
    expect(column(run, 'cleaned_data', 'salary')).toEqual(['50000.0', '60000.0', '60000.0', '70000.0', '60000.0']);
    expect(column(run, 'cleaned_data', 'bonus')).toEqual(['', '', '', '', '']);
  });

  test('a profile cell that is a token is a missing profile', () => {
    expect(column(run, 'cleaned_data', 'address')).toEqual(['x', '', '', '', '']);
    expect(run.metrics()).toMatchObject({ rejected_rows: 0, total_rows: 5 });
  });

  test('every token, whole cell and case-sensitive, and nothing else', () => {
    const missing = MissingValues.forMode('default');
    const isMissing = (text: string): boolean => {
      const bytes = Buffer.from(`<${text}>`);
      return missing.isMissing(bytes, 1, bytes.length - 1);
    };
    expect(PANDAS_NA_TOKENS).toHaveLength(18);
    expect(PANDAS_NA_TOKENS.filter((t) => !isMissing(t))).toEqual([]);
    expect(isMissing('')).toBe(true);
    expect(['na', 'Na', 'NONE', 'NAN', ' NA', 'NA ', 'N/A ', 'NULLs', '#N/A N', 'Name_412', '2019-03-02', 'IT', '1.0', '1.#INDx']
      .filter(isMissing)).toEqual([]);
  });

  test('an id that is a token is missing, and the row is rejected (id is required)', async () => {
    const rejected = await runOnCsv(temp, `${HEADER}\nnull,A,30,50000,2020-01-01,,IT,1\n2,B,30,50000,2020-01-01,,IT,1\n`);
    expect(rejected.lines('rejected_rows')[1]).toBe('2,"id is missing (""null"" is a missing value)","null,A,30,50000,2020-01-01,,IT,1"');
    expect(rejected.metrics()).toMatchObject({ input_rows: 2, total_rows: 1, rejected_rows: 1 });
  });

  describe('--na-values empty: only an empty cell is missing', () => {
    test('tokens in text columns are text', async () => {
      const kept = await runOnCsv(temp, `${HEADER}\n1,NA,30,50000,null,,N/A,\n2,B,,50000,2020-01-01,,,1\n`, { naValues: 'empty' });
      expect(kept.lines('cleaned_data').slice(1)).toEqual([
        '1,NA,30.0,50000.0,null,N/A,,,,',
        '2,B,30.0,50000.0,2020-01-01,Unknown,1.0,,,',
      ]);
      expect(kept.metrics()).toMatchObject({ missing_values_count: 7 });
    });

    test('tokens in float or profile columns reject the row, as before', async () => {
      const rows = `${HEADER}\n1,A,NaN,50000,2020-01-01,,IT,1\n2,B,30,50000,2020-01-01,null,IT,1\n3,C,30,50000,2020-01-01,,IT,1\n`;
      const strict = await runOnCsv(temp, rows, { naValues: 'empty' });
      expect(strict.lines('rejected_rows').slice(1).map((line) => line.split(',')[1])).toEqual([
        '"age is not a number: ""NaN"""',
        'profile is not a JSON object (found null)',
      ]);
    });
  });
});

describe('numbers as pandas reads them', () => {
  test('spaces around a number (space, tab, …) are allowed in float columns and the id', async () => {
    const run = await runOnCsv(temp, `${HEADER}\n1,A, 30.0,60000 ,2020-01-01,,IT, 5.0\n 2 ,B,\t40.5\t,"  70000.5 ",2020-01-02,,HR,7 \n`);
    expect(run.lines('cleaned_data').slice(1)).toEqual([
      '1,A,30.0,60000.0,2020-01-01,IT,5.0,,,',
      '2,B,40.5,70000.5,2020-01-02,HR,7.0,,,',
    ]);
  });

  test('a cell of spaces only is not a number, and text columns keep their spaces', async () => {
    const run = await runOnCsv(temp, `${HEADER}\n1, A ,  ,60000,2020-01-01,,IT,1\n2, B ,30,60000, 2020-01-01 ,,IT,1\n`);
    expect(run.lines('rejected_rows')[1]).toMatch(/^2,"age is not a number: ""  """/);
    expect(run.lines('cleaned_data')[1]).toBe('2, B ,30.0,60000.0, 2020-01-01 ,IT,1.0,,,');
  });

  test('inf, -inf, +inf, Infinity, INF in any case and overflow are infinite floats, printed inf / -inf', async () => {
    const values = ['inf', '-inf', '+inf', 'Infinity', '-Infinity', '+INFINITY', 'INF', 'iNf', '1e400', '-1e400'];
    const rows = values.map((v, i) => `${i + 1},N,30,${v},2020-01-01,,IT,${v}`);
    const run = await runOnCsv(temp, `${HEADER}\n${rows.join('\n')}\n`);
    const printed = ['inf', '-inf', 'inf', 'inf', '-inf', 'inf', 'inf', 'inf', 'inf', '-inf'];
    expect(column(run, 'cleaned_data', 'salary')).toEqual(printed);
    expect(column(run, 'cleaned_data', 'bonus')).toEqual(printed);
    // No salary category for an infinite salary; the department mean is infinite or NaN (inf - inf).
    expect(column(run, 'transformed_data', 'salary_category')).toEqual(values.map(() => ''));
    expect(run.metrics()).toMatchObject({ rejected_rows: 0 });
  });

  test('an infinite age is Experienced; -inf has no group; spaces around inf make it text (rejected)', async () => {
    const run = await runOnCsv(temp, `${HEADER}\n1,A,inf,1,2020-01-01,,IT,1\n2,B,-inf,1,2020-01-01,,IT,1\n3,C, inf,1,2020-01-01,,IT,1\n`);
    expect(column(run, 'transformed_data', 'age_group')).toEqual(['Experienced', '']);
    expect(run.lines('rejected_rows')[1]).toMatch(/^4,"age is not a number: "" inf"""/);
  });

  test('a group mean that meets an infinite value stays infinite (pandas resets its compensation)', async () => {
    const run = await runOnCsv(temp, `${HEADER}\n1,A,30,inf,2020-01-01,,IT,1\n2,B,40,50000,2020-01-01,,IT,1\n`);
    expect(run.text('department_statistics')).toBe('Department,Average Salary,Average Age\nIT,inf,35.0\n');
  });
});

describe('duplicates compare values: -0.0 equals 0.0', () => {
  test('rows differing only by the sign of a zero are duplicates, and keep their own sign', async () => {
    const run = await runOnCsv(temp, [
      HEADER,
      '1,A,0.0,50000.0,2020-01-01,,IT,1.0',
      '1,A,-0.0,50000.0,2020-01-01,,IT,1.0',
      '2,B,30.0,0,2020-01-02,,IT,1.0',
      '2,B,30.0,-0,2020-01-02,,IT,1.0',
      '3,"C, Jr.",30.0,50000.0,2020-01-03,,IT,0',
      '3,"C, Jr.",30.0,50000.0,2020-01-03,,IT,-0.0',
      '4,D,-0.0,-0.0,2020-01-04,,HR,-0.0',
      '4,D,0,+0,2020-01-04,,HR,0.0',
      '5,E,-0.0,-0.0,2020-01-05,,HR,1.0', // differs from 4 in the bonus
    ].join('\n') + '\n');
    expect(run.metrics()).toMatchObject({ duplicate_rows: 4 });
    expect(column(run, 'cleaned_data', 'age')).toEqual(['0.0', '-0.0', '30.0', '30.0', '30.0', '30.0', '-0.0', '0.0', '-0.0']);
  });

  test('a median of zeros is 0.0 however they are signed (numpy\'s mean sums from +0.0), and a row filled with it equals a 0.0 row', async () => {
    // pandas 1.5.3: pd.Series([-0.0, None]).fillna(...median()) gives -0.0, 0.0.
    const run = await runOnCsv(temp, `${HEADER}\n1,A,-0.0,1,2020-01-01,,IT,1\n2,B,,1,2020-01-01,,IT,1\n2,B,-0.0,1,2020-01-01,,IT,1\n`);
    expect(column(run, 'cleaned_data', 'age')).toEqual(['-0.0', '0.0', '-0.0']);
    expect(run.metrics()).toMatchObject({ duplicate_rows: 1 });
  });
});

describe('profile values as Python writes them', () => {
  function profileRow(id: number, json: string): string {
    return `${id},N,30,50000,2020-01-01,"${json.replace(/"/g, '""')}",IT,1`;
  }

  test('\\u escapes decode to characters: address_length counts code points, not UTF-8 bytes', async () => {
    const run = await runOnCsv(temp, [
      HEADER,
      profileRow(1, '{"address": "Caf\\u00e9 \\ud83d\\ude00", "phone": "1", "email": "e"}'),
      profileRow(2, '{"address": "\\u00fcber", "phone": "2", "email": "f"}'),
      '3,Ünïcödé,30,50000,2020-01-01,"{""address"": ""\\u4e2d"", ""phone"": ""3"", ""email"": ""g""}",IT,1',
    ].join('\n') + '\n');
    expect(column(run, 'transformed_data', 'address')).toEqual(['Café 😀', 'über', '中']);
    expect(column(run, 'transformed_data', 'address_length')).toEqual(['6', '4', '1']);
  });

  test('numbers and booleans are written as str() writes them; null and NaN are missing', async () => {
    const run = await runOnCsv(temp, [
      HEADER,
      profileRow(1, '{"address": 123456789012345678901234567890, "phone": 5551234567, "email": true}'),
      profileRow(2, '{"address": 1.50, "phone": 1e5, "email": -0}'),
      profileRow(3, '{"address": NaN, "phone": null, "email": Infinity}'),
    ].join('\n') + '\n');
    expect(run.lines('cleaned_data').slice(1).map((line) => line.split(',').slice(7).join(','))).toEqual([
      '123456789012345678901234567890,5551234567,True',
      '1.5,100000.0,0',
      ',,inf',
    ]);
    expect(column(run, 'transformed_data', 'address_length')).toEqual(['30', '3', '0']);
    expect(run.metrics()).toMatchObject({ rejected_rows: 0 });
  });

  test('an address, phone or email that is a JSON list or object rejects the row (pandas cannot hash it); other keys are ignored', async () => {
    const run = await runOnCsv(temp, [
      HEADER,
      profileRow(1, '{"address": {"b": 1, "1": [null, false]}, "phone": "1", "email": "e"}'),
      profileRow(2, '{"address": "a", "phone": [], "email": "e"}'),
      profileRow(3, '{"address": "a", "phone": "1", "email": {}}'),
      profileRow(4, '{"address": ["it\'s"], "phone": "x", "email": "y"}'),
      profileRow(5, '{"tags": ["x", {"y": [1]}], "address": "Main", "meta": {"k": []}, "phone": "1", "email": "e"}'),
      profileRow(6, '{"address": [1], "address": "last wins", "phone": "1", "email": "e"}'),
    ].join('\n') + '\n');
    expect(run.lines('rejected_rows').slice(1).map((line) => /^(\d+),"([^"]*)"/.exec(line)!.slice(1).join(' '))).toEqual([
      '2 profile.address is a JSON object, not a value',
      '3 profile.phone is a JSON list, not a value',
      '4 profile.email is a JSON object, not a value',
      '5 profile.address is a JSON list, not a value',
    ]);
    expect(run.lines('cleaned_data').slice(1).map((line) => line.split(',').slice(7).join(','))).toEqual(['Main,1,e', 'last wins,1,e']);
    expect(run.metrics()).toMatchObject({ input_rows: 6, total_rows: 2, rejected_rows: 4 });
  });
});
