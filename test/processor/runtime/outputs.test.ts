import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { silentLogger } from '../../../processor/src/runtime/log';
import { LocalOutputTarget, CSV_CONTENT_TYPE } from '../../../processor/src/runtime/outputs';
import { TempDirs } from '../helpers';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

async function stage(target: LocalOutputTarget, fileName: string, text: string): Promise<void> {
  const stream = target.createStream(fileName);
  stream.end(text);
  await finished(stream);
}

describe('LocalOutputTarget staging', () => {
  test('two runs with the same run id writing into one directory stage into files of their own', async () => {
    const dir = temp.make('outputs-');
    const first = new LocalOutputTarget(dir, silentLogger);
    const second = new LocalOutputTarget(dir, silentLogger);
    await first.prepare();
    // Interleaved: both open the same output name before either finishes.
    const a = first.createStream('cleaned_data_x.csv');
    const b = second.createStream('cleaned_data_x.csv');
    a.write('first,');
    b.write('second,');
    a.end('run\n');
    b.end('run\n');
    await Promise.all([finished(a), finished(b)]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toHaveLength(2);

    await first.publish([{ fileName: 'cleaned_data_x.csv', bytes: 10, contentType: CSV_CONTENT_TYPE }]);
    expect(readFileSync(join(dir, 'cleaned_data_x.csv'), 'utf8')).toBe('first,run\n');
    await second.publish([{ fileName: 'cleaned_data_x.csv', bytes: 11, contentType: CSV_CONTENT_TYPE }]);
    expect(readFileSync(join(dir, 'cleaned_data_x.csv'), 'utf8')).toBe('second,run\n');
    expect(readdirSync(dir)).toEqual(['cleaned_data_x.csv']);
  });

  test('discard removes only its own staged files', async () => {
    const dir = temp.make('outputs-');
    const kept = new LocalOutputTarget(dir, silentLogger);
    const dropped = new LocalOutputTarget(dir, silentLogger);
    await kept.prepare();
    await stage(kept, 'a.csv', 'kept\n');
    await stage(dropped, 'a.csv', 'dropped\n');
    await dropped.discard();
    await kept.publish([{ fileName: 'a.csv', bytes: 5, contentType: CSV_CONTENT_TYPE }]);
    expect(readdirSync(dir)).toEqual(['a.csv']);
    expect(readFileSync(join(dir, 'a.csv'), 'utf8')).toBe('kept\n');
  });
});
