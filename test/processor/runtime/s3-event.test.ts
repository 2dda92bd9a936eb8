import {
  NotAnS3EventError, S3EventObject, decodeS3EventKey, outputPlaceOf, parseS3EventMessage, runIdForObject,
} from '../../../processor/src/runtime/s3-event';
import { encodeS3EventKey } from '../../../processor/tools/local-aws';

/** A record as S3 writes it (event structure 2.1), key already encoded. */
function record(key: string, overrides: Record<string, unknown> = {}, object: Record<string, unknown> = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: '2026-03-04T05:06:07.891Z',
    eventName: 'ObjectCreated:Put',
    s3: { s3SchemaVersion: '1.0', bucket: { name: 'raw', arn: 'arn:aws:s3:::raw' }, object: { key, size: 1024, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5', ...object } },
    ...overrides,
  };
}

const FALLBACK = new Date('2026-01-01T00:00:00Z');

describe('parseS3EventMessage', () => {
  test('the test event S3 sends when a notification is configured', () => {
    const body = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-03-04T05:06:07.891Z', Bucket: 'raw', RequestId: 'R', HostId: 'H' });
    expect(parseS3EventMessage(body)).toEqual({ kind: 'test', bucket: 'raw' });
  });

  test('ObjectCreated records: bucket, decoded key, version, eTag, size, event time', () => {
    const body = JSON.stringify({ Records: [record('data/hr+2026%2Bq1.csv', {}, { versionId: 'v1' })] });
    expect(parseS3EventMessage(body)).toEqual({
      kind: 'objects',
      ignored: [],
      objects: [{
        bucket: 'raw',
        key: 'data/hr 2026+q1.csv',
        eventName: 'ObjectCreated:Put',
        eventTime: '2026-03-04T05:06:07.891Z',
        versionId: 'v1',
        eTag: 'd41d8cd98f00b204e9800998ecf8427e',
        sequencer: '0055AED6DCD90281E5',
        size: 1024,
      }],
    });
  });

  test('records that create no object are listed as ignored, not processed', () => {
    const body = JSON.stringify({ Records: [record('data/a.csv', { eventName: 'ObjectRemoved:Delete' }), record('data/b.csv')] });
    const parsed = parseS3EventMessage(body);
    expect(parsed).toMatchObject({ kind: 'objects', ignored: ['ObjectRemoved:Delete'] });
    expect(parsed.kind === 'objects' && parsed.objects.map((o) => o.key)).toEqual(['data/b.csv']);
  });

  test.each([
    ['not JSON', 'hello', 'the message is not JSON: hello'],
    ['a JSON array', '[1]', 'the message is not a JSON object: [1]'],
    ['no records', '{"Records":[]}', 'the message has no S3 event records'],
    ['another service\'s record', JSON.stringify({ Records: [{ eventSource: 'aws:sns', eventName: 'x' }] }), 'record 0 is not an S3 event record'],
    ['a record without a key', JSON.stringify({ Records: [record('')] }), 'record 0 names no bucket and key'],
    ['a key that is not valid URL encoding', JSON.stringify({ Records: [record('data/100%.csv')] }), "the object key 'data/100%.csv' is not valid URL encoding"],
  ])('%s is not an S3 event (NotAnS3EventError, a bad-input error)', (_, body, message) => {
    expect(() => parseS3EventMessage(body)).toThrow(NotAnS3EventError);
    expect(() => parseS3EventMessage(body)).toThrow(message);
  });
});

describe('S3 event keys', () => {
  test.each([
    ['hr+2026.csv', 'hr 2026.csv'],
    ['a%2Bb.csv', 'a+b.csv'],
    ['dir/sub/x.csv', 'dir/sub/x.csv'],
    ['caf%C3%A9+%281%29.csv', 'café (1).csv'],
  ])('%s decodes to %s', (raw, key) => {
    expect(decodeS3EventKey(raw)).toBe(key);
  });

  test('the local S3 stand-in encodes keys so that they decode back to themselves', () => {
    for (const key of ['data/hr 2026+q1.csv', "data/it's (1)!~*.csv", 'data/a%20b.csv', 'data/x=1&y=2.csv', 'données/été.csv']) {
      expect({ key, decoded: decodeS3EventKey(encodeS3EventKey(key)) }).toEqual({ key, decoded: key });
    }
    expect(encodeS3EventKey('data/hr 2026+q1.csv')).toBe('data/hr+2026%2Bq1.csv');
  });
});

describe('outputPlaceOf', () => {
  test.each([
    ['data/hr.csv', 'data/', 'hr'],
    ['data/team a/hr 2026.csv', 'data/', 'team a/hr 2026'],
    ['data/archive.tar.gz', 'data/', 'archive.tar'],
    ['data/v1.2/x', 'data/', 'v1.2/x'],
    ['data/.env', 'data/', '.env'],
    ['data/hr-2026.csv', 'data/hr-', '2026'],
    ['uploads/x.csv', '', 'uploads/x'],
  ])('%s under %s goes to folder %s', (key, prefix, folder) => {
    expect(outputPlaceOf(key, prefix)).toEqual({ kind: 'folder', folder });
  });

  test('empty key segments are kept: data//x.csv and data/x.csv do not share an output folder', () => {
    expect(outputPlaceOf('data//x.csv', 'data/')).toEqual({ kind: 'folder', folder: '/x' });
    expect(outputPlaceOf('data/a//x.csv', 'data/')).toEqual({ kind: 'folder', folder: 'a//x' });
    expect(outputPlaceOf('data/x.csv', 'data/')).toEqual({ kind: 'folder', folder: 'x' });
  });

  test('a key ending in / is a folder marker', () => {
    expect(outputPlaceOf('data/sub/', 'data/')).toEqual({ kind: 'folder-marker' });
    expect(outputPlaceOf('data/', 'data/')).toEqual({ kind: 'folder-marker' });
  });

  test('keys outside the prefix, or with . or .. segments, have no place', () => {
    expect(outputPlaceOf('other/x.csv', 'data/')).toEqual({ kind: 'outside', reason: "the object key 'other/x.csv' is not under the input prefix 'data/'" });
    expect(outputPlaceOf('data/../x.csv', 'data/')).toMatchObject({ kind: 'outside' });
    expect(outputPlaceOf('data/./x.csv', 'data/')).toMatchObject({ kind: 'outside' });
  });
});

describe('runIdForObject', () => {
  const object: S3EventObject = { bucket: 'raw', key: 'data/hr.csv', eventName: 'ObjectCreated:Put', eventTime: '2026-03-04T05:06:07.891Z', eTag: 'e1' };

  test('the event time, then 8 hex digits: the same for every delivery of the same event', () => {
    const runId = runIdForObject(object, FALLBACK);
    expect(runId).toMatch(/^20260304-050607-[0-9a-f]{8}$/);
    expect(runIdForObject({ ...object }, new Date())).toBe(runId);
  });

  test('another version, key or bucket gives another run id', () => {
    const runId = runIdForObject(object, FALLBACK);
    const others = [
      { ...object, eTag: 'e2' },
      { ...object, versionId: 'v7' },
      { ...object, key: 'data/other.csv' },
      { ...object, bucket: 'raw2' },
    ].map((o) => runIdForObject(o, FALLBACK));
    expect(new Set([runId, ...others]).size).toBe(5);
  });

  test('unversioned: the same ETag with another sequencer (the same content uploaded again) is another run; a redelivery (same sequencer) is the same', () => {
    const first = { ...object, sequencer: '0055AED6DCD90281E5' };
    const reupload = { ...object, sequencer: '0055AED6DCD90281F9' };
    expect(runIdForObject(reupload, FALLBACK)).not.toBe(runIdForObject(first, FALLBACK));
    expect(runIdForObject({ ...first }, new Date())).toBe(runIdForObject(first, FALLBACK));
    // With a version id the version alone names the upload.
    expect(runIdForObject({ ...first, versionId: 'v1' }, FALLBACK)).toBe(runIdForObject({ ...reupload, versionId: 'v1' }, FALLBACK));
  });

  test('without an event time the fallback time (the message\'s SentTimestamp) names it', () => {
    const timeless = { ...object, eventTime: undefined };
    expect(runIdForObject(timeless, FALLBACK)).toMatch(/^20260101-000000-[0-9a-f]{8}$/);
    expect(runIdForObject({ ...object, eventTime: 'not a time' }, FALLBACK)).toMatch(/^20260101-000000-/);
  });
});
