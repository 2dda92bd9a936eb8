import { readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../../../processor/src/runtime/run';
import { HEADER, LocalRun, RUN_ID, TempDirs, localRun, profileCell, runOnCsv } from '../helpers';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const CLEANED_HEADER = 'id,name,age,salary,hire_date,department,bonus,address,phone,email';
const TRANSFORMED_HEADER = `${CLEANED_HEADER},address_length,salary_category,age_group`;

describe('a small walkthrough-shaped input', () => {
  // Ages 30, 45, 25, 55 → median 37.5 (even count: mean of 30 and 45).
  // Salaries 50000, 70000, 100000, 100000.01 → median 85000.0.
  const input = [
    HEADER,
    `1,Alice,30.0,50000.0,2020-01-15,${profileCell({ address: 'Street 1, City 2', phone: '5550001', email: 'a@example.com' })},IT,1000.0`,
    `2,Bob,,70000,2019-03-02,${profileCell({ address: 'Main St', phone: '5550002', email: 'b@example.com' })},,`,
    '3,"Carol ""CJ"" Jones",45,,2018-07-01,,HR,250.5',
    '4,Dan,25.0,100000.0,,"{""phone"": ""5550004"", ""email"": null}",IT,0',
    `5,Eve,55,100000.01,2017-01-01,${profileCell({ address: 'Ünïcödé 🚀', phone: '5550005', email: 'e@example.com' })},Sales,1e3`,
  ].join('\n') + '\n';
  let run: LocalRun;
  beforeAll(async () => {
    run = await runOnCsv(temp, input);
  });

  test('cleaned_data fills age and salary with the medians, department with Unknown, and splits the profile', () => {
    expect(run.lines('cleaned_data')).toEqual([
      CLEANED_HEADER,
      '1,Alice,30.0,50000.0,2020-01-15,IT,1000.0,"Street 1, City 2",5550001,a@example.com',
      '2,Bob,37.5,70000.0,2019-03-02,Unknown,,Main St,5550002,b@example.com',
      '3,"Carol ""CJ"" Jones",45.0,85000.0,2018-07-01,HR,250.5,,,',
      '4,Dan,25.0,100000.0,,IT,0.0,,5550004,',
      '5,Eve,55.0,100000.01,2017-01-01,Sales,1000.0,Ünïcödé 🚀,5550005,e@example.com',
    ]);
  });

  test('transformed_data adds address_length (code points, 0 when missing), salary_category and age_group', () => {
    const cleaned = run.lines('cleaned_data');
    expect(run.lines('transformed_data')).toEqual([
      TRANSFORMED_HEADER,
      `${cleaned[1]},16,low,Early Career`,
      `${cleaned[2]},7,medium,Mid Career`,
      `${cleaned[3]},0,high,Mid Career`,
      `${cleaned[4]},0,high,Young`,
      `${cleaned[5]},9,,Senior`,
    ]);
  });

  test('department_statistics: means over the filled values, sorted by department', () => {
    expect(run.text('department_statistics')).toBe([
      'Department,Average Salary,Average Age',
      'HR,85000.0,45.0',
      'IT,75000.0,27.5',
      'Sales,100000.01,55.0',
      'Unknown,70000.0,37.5',
    ].join('\n') + '\n');
  });

  test('quality_metrics counts empty cells of transformed_data and takes its timestamp from the run id', () => {
    expect(run.text('quality_metrics', 'json')).toBe(JSON.stringify({
      total_rows: 5,
      total_columns: 13,
      missing_values_count: 8,
      duplicate_rows: 0,
      processing_timestamp: '2024-12-21T22:49:04Z',
      input_rows: 5,
      rejected_rows: 0,
    }, null, 2) + '\n');
  });

  test('rejected_rows has only its header', () => {
    expect(run.text('rejected_rows')).toBe('line,reason,record\n');
  });

  test('the manifest lists every output with its byte size and row count', () => {
    const files = run.files();
    const manifest = JSON.parse(run.text('manifest', 'json'));
    expect(manifest).toEqual({
      run_id: RUN_ID,
      input: run.inputPath,
      // Lineage of a local file: what applies to one (SPEC §11).
      source: { path: run.inputPath, size: statSync(run.inputPath!).size, last_modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
      processing_timestamp: '2024-12-21T22:49:04Z',
      input_rows: 5,
      total_rows: 5,
      rejected_rows: 0,
      outputs: [
        { name: 'cleaned_data', key: `cleaned_data_${RUN_ID}.csv`, bytes: files.get(`cleaned_data_${RUN_ID}.csv`)!.length, rows: 5 },
        { name: 'transformed_data', key: `transformed_data_${RUN_ID}.csv`, bytes: files.get(`transformed_data_${RUN_ID}.csv`)!.length, rows: 5 },
        {
          name: 'department_statistics',
          key: `department_statistics_${RUN_ID}.csv`,
          bytes: files.get(`department_statistics_${RUN_ID}.csv`)!.length,
          rows: 4,
        },
        { name: 'quality_metrics', key: `quality_metrics_${RUN_ID}.json`, bytes: files.get(`quality_metrics_${RUN_ID}.json`)!.length },
        { name: 'rejected_rows', key: `rejected_rows_${RUN_ID}.csv`, bytes: files.get(`rejected_rows_${RUN_ID}.csv`)!.length, rows: 0 },
      ],
    });
    expect([...files.keys()]).toEqual([
      `cleaned_data_${RUN_ID}.csv`, `department_statistics_${RUN_ID}.csv`, `manifest_${RUN_ID}.json`,
      `quality_metrics_${RUN_ID}.json`, `rejected_rows_${RUN_ID}.csv`, `transformed_data_${RUN_ID}.csv`,
    ]);
  });

  test('a rerun with the same run id gives the same bytes', async () => {
    const before = run.files();
    await runPipeline({ input: run.inputPath!, output: run.dir, runId: RUN_ID, scratchDir: temp.make() });
    const after = run.files();
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [name, bytes] of before) expect({ name, same: after.get(name)!.equals(bytes) }).toEqual({ name, same: true });
  });
});

describe('rows that cannot be processed', () => {
  const rows = [
    HEADER,
    '1,Ok,30,50000,2020-01-01,,IT,10',
    'x,BadId,30,50000,2020-01-01,,IT,10',
    ',NoId,30,50000,2020-01-01,,IT,10',
    '99999999999999999999,BigId,30,50000,2020-01-01,,IT,10',
    '2,BadAge,abc,50000,2020-01-01,,IT,10',
    '3,BadSalary,30, inf,2020-01-01,,IT,10',
    '4,BadBonus,30,50000,2020-01-01,,IT,ten',
    '5,ArrayProfile,30,50000,2020-01-01,"[1, 2]",IT,10',
    '6,BrokenJson,30,50000,2020-01-01,{oops},IT,10',
    '7,LoneSurrogate,30,50000,2020-01-01,"{""phone"": ""\\ud83d""}",IT,10',
    'NA,NaId,30,50000,2020-01-01,,IT,10',
    '8,Short,30,50000',
    '9,Long,30,50000,2020-01-01,,IT,10,extra',
    '10,Stray"Quote,30,50000,2020-01-01,,IT,10',
    '11,"Closed"x,30,50000,2020-01-01,,IT,10',
    '13,"Two',
    'lines",90,90000,2020-01-01,,IT,10',
  ];
  let run: LocalRun;
  beforeAll(async () => {
    const invalidUtf8 = Buffer.from('12,Bad\xff\xfeText,30,50000,2020-01-01,,IT,10\n', 'latin1');
    const unterminated = Buffer.from('14,"Unterminated,30,50000,2020-01-01,,IT,10\n');
    run = await runOnCsv(temp, Buffer.concat([Buffer.from(rows.join('\n') + '\n'), invalidUtf8, unterminated]));
  });

  test('each is listed with its line, the reason and the raw record', () => {
    expect(run.lines('rejected_rows')).toEqual([
      'line,reason,record',
      '3,"id is not an integer: ""x""","x,BadId,30,50000,2020-01-01,,IT,10"',
      '4,id is missing,",NoId,30,50000,2020-01-01,,IT,10"',
      '5,"id is outside the 64-bit integer range: ""99999999999999999999""","99999999999999999999,BigId,30,50000,2020-01-01,,IT,10"',
      '6,"age is not a number: ""abc""","2,BadAge,abc,50000,2020-01-01,,IT,10"',
      '7,"salary is not a number: "" inf""","3,BadSalary,30, inf,2020-01-01,,IT,10"',
      '8,"bonus is not a number: ""ten""","4,BadBonus,30,50000,2020-01-01,,IT,ten"',
      '9,profile is not a JSON object (found an array),"5,ArrayProfile,30,50000,2020-01-01,""[1, 2]"",IT,10"',
      '10,profile is not a JSON object (invalid JSON: expecting property name enclosed in double quotes at character 1),'
        + '"6,BrokenJson,30,50000,2020-01-01,{oops},IT,10"',
      '11,profile.phone contains an unpaired UTF-16 surrogate,"7,LoneSurrogate,30,50000,2020-01-01,""{""""phone"""": """"\\ud83d""""}"",IT,10"',
      '12,"id is missing (""NA"" is a missing value)","NA,NaId,30,50000,2020-01-01,,IT,10"',
      '13,"expected 8 fields, found 4","8,Short,30,50000"',
      '14,"expected 8 fields, found 9","9,Long,30,50000,2020-01-01,,IT,10,extra"',
      '15,field 2 has a quote character inside an unquoted value,"10,Stray""Quote,30,50000,2020-01-01,,IT,10"',
      '16,field 2 has text after its closing quote,"11,""Closed""x,30,50000,2020-01-01,,IT,10"',
      '19,row is not valid UTF-8 text,"12,Bad\ufffd\ufffdText,30,50000,2020-01-01,,IT,10"',
      '20,field 2 has an unterminated quoted value,"14,""Unterminated,30,50000,2020-01-01,,IT,10',
      '"',
    ]);
  });

  test('valid rows, including one spanning two lines, are processed; medians use them only', () => {
    expect(run.lines('cleaned_data').slice(1)).toEqual([
      '1,Ok,30.0,50000.0,2020-01-01,IT,10.0,,,',
      '13,"Two\nlines",90.0,90000.0,2020-01-01,IT,10.0,,,',
    ].flatMap((l) => l.split('\n')));
    expect(run.text('department_statistics')).toBe('Department,Average Salary,Average Age\nIT,70000.0,60.0\n');
  });

  test('input_rows = total_rows + rejected_rows', () => {
    expect(run.metrics()).toMatchObject({ input_rows: 18, total_rows: 2, rejected_rows: 16 });
  });
});

describe('CSV dialect', () => {
  test('a byte order mark, CRLF line breaks and line breaks inside quoted fields', async () => {
    const input = '\uFEFF' + [
      HEADER,
      `1,"Multi\r\nLine",40,60000,2020-01-01,${profileCell({ address: 'A\nB', phone: '1', email: 'x' })},IT,`,
      '2,Plain,50,61000,2020-01-02,,IT,5',
      '',
    ].join('\r\n');
    const run = await runOnCsv(temp, input);
    expect(run.text('cleaned_data')).toBe(
      `${CLEANED_HEADER}\n1,"Multi\r\nLine",40.0,60000.0,2020-01-01,IT,,"A\nB",1,x\n2,Plain,50.0,61000.0,2020-01-02,IT,5.0,,,\n`,
    );
    expect(run.metrics()).toMatchObject({ input_rows: 2, total_rows: 2 });
  });

  test('reordered and extra columns: known columns in the standard order, extras after them, before the derived ones', async () => {
    const input = [
      'department,bonus,id,team,name,age,salary,hire_date,profile,note',
      'IT,100,1,"Blue, Team",Ann,30,50000,2020-01-01,,first',
      ',,2,,Ben,40,60000,2021-01-01,,',
    ].join('\n') + '\n';
    const run = await runOnCsv(temp, input);
    expect(run.lines('cleaned_data')).toEqual([
      `${CLEANED_HEADER},team,note`,
      '1,Ann,30.0,50000.0,2020-01-01,IT,100.0,,,,"Blue, Team",first',
      '2,Ben,40.0,60000.0,2021-01-01,Unknown,,,,,,',
    ]);
    expect(run.lines('transformed_data')).toEqual([
      `${CLEANED_HEADER},team,note,address_length,salary_category,age_group`,
      '1,Ann,30.0,50000.0,2020-01-01,IT,100.0,,,,"Blue, Team",first,0,low,Early Career',
      '2,Ben,40.0,60000.0,2021-01-01,Unknown,,,,,,,0,medium,Mid Career',
    ]);
    // Ann: address, phone, email; Ben: bonus, address, phone, email, team, note.
    expect(run.metrics()).toMatchObject({ total_columns: 15, missing_values_count: 9 });
  });

  test('numbers print as pandas prints float64; ids as integers', async () => {
    const input = [
      HEADER,
      '007,A,077,1e16,2020-01-01,,IT,0.00001',
      '+5,B,-0,60183.12852664577,2020-01-01,,IT,1.5e-7',
      '-3,C,25.50,.5,2020-01-01,,IT,5.',
    ].join('\n') + '\n';
    const run = await runOnCsv(temp, input);
    expect(run.lines('cleaned_data').slice(1)).toEqual([
      '7,A,77.0,1e+16,2020-01-01,IT,1e-05,,,',
      '5,B,-0.0,60183.12852664577,2020-01-01,IT,1.5e-07,,,',
      '-3,C,25.5,0.5,2020-01-01,IT,5.0,,,',
    ]);
  });

  test('bins at their boundaries', async () => {
    const cases: Array<[string, string, string, string]> = [
      ['0', '0', 'low', 'Young'], ['25', '50000', 'low', 'Young'], ['25.5', '50000.01', 'medium', 'Early Career'],
      ['35', '70000', 'medium', 'Early Career'], ['45', '70000.5', 'high', 'Mid Career'], ['55', '100000', 'high', 'Senior'],
      ['55.5', '100000.5', '', 'Experienced'], ['-1', '-5', '', ''],
    ];
    const input = [HEADER, ...cases.map(([age, salary], i) => `${i + 1},N,${age},${salary},2020-01-01,,IT,1`)].join('\n') + '\n';
    const run = await runOnCsv(temp, input);
    const derived = run.lines('transformed_data').slice(1).map((line) => line.split(',').slice(-2));
    expect(derived).toEqual(cases.map(([, , category, group]) => [category, group]));
  });

  test('duplicate rows are counted; a row equal only after the median fill counts too', async () => {
    const input = [
      HEADER,
      '1,A,30,50000,2020-01-01,,IT,1',
      '1,A,30,50000,2020-01-01,,IT,1',
      '2,B,40,60000,2020-01-01,,IT,1',
      '2,B,,60000,2020-01-01,,IT,1', // filled with the median age, 30: not equal to the row above
      '3,C,30,,2020-01-01,,IT,1', // filled with the median salary, 50000
      '3,C,30,50000,2020-01-01,,IT,1', // equal to the filled row above
      '1,A,30,50000,2020-01-01,,IT,1',
    ].join('\n') + '\n';
    const run = await runOnCsv(temp, input);
    expect(run.metrics()).toMatchObject({ total_rows: 7, duplicate_rows: 3 });
  });

  test('all ages missing: the fill stays empty and counts as missing', async () => {
    const run = await runOnCsv(temp, `${HEADER}\n1,A,,50000,2020-01-01,,,1\n`);
    expect(run.lines('transformed_data')[1]).toBe('1,A,,50000.0,2020-01-01,Unknown,1.0,,,,0,low,');
    expect(run.metrics()).toMatchObject({ missing_values_count: 5 });
    expect(run.text('department_statistics')).toBe('Department,Average Salary,Average Age\nUnknown,50000.0,\n');
  });

  test('a header-only file gives empty outputs with headers', async () => {
    const run = await runOnCsv(temp, `${HEADER}\n`);
    expect(run.text('cleaned_data')).toBe(`${CLEANED_HEADER}\n`);
    expect(run.text('department_statistics')).toBe('Department,Average Salary,Average Age\n');
    expect(run.metrics()).toMatchObject({ total_rows: 0, input_rows: 0, rejected_rows: 0, duplicate_rows: 0, missing_values_count: 0 });
  });
});

describe('processing_timestamp and run ids', () => {
  test('a run id not in timestamp form takes the input\'s last-modified time, so reruns stay identical', async () => {
    const dir = temp.make();
    const inputPath = join(temp.make(), 'input.csv');
    writeFileSync(inputPath, `${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n`);
    utimesSync(inputPath, new Date('2025-02-03T04:05:06Z'), new Date('2025-02-03T04:05:06Z'));
    const first = localRun(await runPipeline({ input: inputPath, output: dir, runId: 'nightly.v2' }), dir, 'nightly.v2');
    expect(first.metrics().processing_timestamp).toBe('2025-02-03T04:05:06Z');
    const before = first.files();
    await runPipeline({ input: inputPath, output: dir, runId: 'nightly.v2' });
    expect(first.files()).toEqual(before);
  });

  test('with exclusiveManifest a second run of the same run id leaves the first manifest (a local directory: a hard link, not a rename)', async () => {
    const dir = temp.make();
    const inputPath = join(temp.make(), 'input.csv');
    writeFileSync(inputPath, `${HEADER}\n`);
    const options = { input: inputPath, output: dir, runId: RUN_ID, exclusiveManifest: true };
    expect((await runPipeline(options)).finishedElsewhere).toBe(false);
    const manifestPath = join(dir, `manifest_${RUN_ID}.json`);
    writeFileSync(manifestPath, '{"written_by":"the other run"}\n');
    expect((await runPipeline(options)).finishedElsewhere).toBe(true);
    expect(readFileSync(manifestPath, 'utf8')).toBe('{"written_by":"the other run"}\n');
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  test('the default run id is the UTC start time', async () => {
    const dir = temp.make();
    const inputPath = join(temp.make(), 'input.csv');
    writeFileSync(inputPath, `${HEADER}\n`);
    const result = await runPipeline({ input: inputPath, output: dir, startTime: new Date('2024-12-21T22:49:04.900Z') });
    expect(result.runId).toBe('20241221-224904');
    expect(statSync(join(dir, 'manifest_20241221-224904.json')).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'quality_metrics_20241221-224904.json'), 'utf8')).processing_timestamp).toBe('2024-12-21T22:49:04Z');
  });

  test.each(['../escape', 'a/b', '', 'x'.repeat(129), '-leading'])('run id %j is refused', async (runId) => {
    const inputPath = join(temp.make(), 'input.csv');
    writeFileSync(inputPath, `${HEADER}\n`);
    await expect(runPipeline({ input: inputPath, output: temp.make(), runId })).rejects.toThrow(/run id/);
  });
});
