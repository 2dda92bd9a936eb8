/**
 * The profile's slow path reads JSON as Python's json.loads does and prints values as str().
 * The expected texts were produced by CPython 3.11: `str(json.loads(text))`.
 */
import { PythonJsonError, parsePythonJson, pythonStr } from '../../../../processor/src/transforms/walkthrough/python-json';

describe('parsePythonJson + pythonStr = str(json.loads(text))', () => {
  test.each<[string, string]>([
    ['"plain"', 'plain'],
    ['12', '12'],
    ['-0', '0'],
    ['1.0', '1.0'],
    ['1E5', '100000.0'],
    ['-1.5e-7', '-1.5e-07'],
    ['1e400', 'inf'],
    ['-1e400', '-inf'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['true', 'True'],
    ['false', 'False'],
    ['null', 'None'],
    ['NaN', 'nan'],
    ['Infinity', 'inf'],
    ['-Infinity', '-inf'],
    ['[]', '[]'],
    ['{}', '{}'],
    ['[1, [2, [3]]]', '[1, [2, [3]]]'],
    ['{"k": {"k": "v"}}', '{\'k\': {\'k\': \'v\'}}'],
    // A repeated key keeps its first position and its last value; an integer-like key keeps its place.
    ['{"b": 1, "1": 2, "b": 3}', '{\'b\': 3, \'1\': 2}'],
    [' { "a" : [ 1 , 2 ] } ', '{\'a\': [1, 2]}'],
    [String.raw`"\ud83d\ude00"`, '😀'],
    [String.raw`["\u0000\u001f\u007f\u0080\u00ff\u0100\u200b\u2028\ue000\ud83d\ude00\ud83dx"]`,
      String.raw`['\x00\x1f\x7f\x80ÿĀ\u200b\u2028\ue000😀\ud83dx']`],
    [String.raw`["\ud800", "\udfff\ud800"]`, String.raw`['\ud800', '\udfff\ud800']`],
    [String.raw`["back\\slash", "\/", "\b\f\n\r\t"]`, String.raw`['back\\slash', '/', '\x08\x0c\n\r\t']`],
    [String.raw`["it's", "say \"hi\"", "a'b\"c", "\u00a0"]`, String.raw`["it's", 'say "hi"', 'a\'b"c', '\xa0']`],
  ])('%s', (text, expected) => {
    expect(pythonStr(parsePythonJson(text))).toBe(expected);
  });

  test('numbers keep Python\'s int / float distinction', () => {
    expect(parsePythonJson('5')).toBe(5n);
    expect(parsePythonJson('5.0')).toBe(5);
  });
});

describe('what json.loads refuses is refused', () => {
  test.each([
    '{"a": 1,}', '[1,]', '{a: 1}', '{\'a\': 1}', '01', '1.', '.5', '+1', '-', String.raw`"\x"`, String.raw`"\u12"`,
    '"tab\there"', 'nan', '-NaN', '[1] x', '{"a" 1}', '"unterminated', '\ufeff{}', 'TRUE', '1e', '[1 2]', '',
  ])('%j', (text) => {
    expect(() => parsePythonJson(text)).toThrow(PythonJsonError);
  });

  test('integers of more than 4300 digits (Python refuses to convert them) and very deep nesting', () => {
    expect(() => parsePythonJson('9'.repeat(4301))).toThrow(/more than 4300 digits/);
    expect(pythonStr(parsePythonJson('9'.repeat(4300)))).toHaveLength(4300);
    expect(() => parsePythonJson('['.repeat(1000) + ']'.repeat(1000))).toThrow(/nesting deeper than/);
  });
});
