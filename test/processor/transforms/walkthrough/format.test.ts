import { formatFloat, parseDecimal, parseInteger, parsedDecimal, writeFloat } from '../../../../processor/src/transforms/walkthrough/format';

const parse = (text: string): number => {
  const bytes = Buffer.from(`#${text}#`, 'latin1');
  return parseDecimal(bytes, 1, bytes.length - 1);
};
const integer = (text: string) => {
  const bytes = Buffer.from(text, 'latin1');
  return parseInteger(bytes, 0, bytes.length);
};

describe('parseDecimal', () => {
  test.each([
    ['77.0', 77], ['60000', 60000], ['-3.5', -3.5], ['+7', 7], ['.5', 0.5], ['5.', 5], ['0.1', 0.1],
    ['1e3', 1000], ['1E-3', 0.001], ['2.5e+2', 250], ['007', 7], ['60183.12852664577', 60183.12852664577],
    ['123456789012345678901234567890', 1.2345678901234568e29], ['0.000001234', 0.000001234], ['1e-30', 1e-30],
  ])('%s is %d', (text, value) => {
    expect(parse(text)).toBe(value);
  });

  test('agrees with Number() on long and extreme inputs', () => {
    for (const text of ['0.30000000000000004', '9007199254740993', '1.7976931348623157e308', '4.9e-324', '123.456e-20', '99999999999999999999.5']) {
      expect(parse(text)).toBe(Number(text));
    }
  });

  test('keeps the sign of zero', () => {
    expect(Object.is(parse('-0'), -0)).toBe(true);
    expect(Object.is(parse('-0.0'), -0)).toBe(true);
  });

  test.each(['', ' 1', '1 ', 'abc', '1.2.3', '1e', 'e5', '-', '+', '.', 'NaN', 'inf', '0x10', '1_000', '1,5', '--1'])(
    '%j is not a number',
    (text) => {
      expect(parse(text)).toBeNaN();
    },
  );

  test('the usual cells, read in one pass, give Number()\'s value and are copied exactly when Python prints them as written', () => {
    let seed = 12345;
    const digit = (from: number): string => {
      seed = (seed * 16807) % 2147483647; // Park-Miller
      return String(from + (seed % (10 - from)));
    };
    for (let n = 0; n < 20000; n++) {
      const integerDigits = 1 + (n % 14);
      const fractionDigits = 1 + (Math.floor(n / 16) % (15 - integerDigits));
      let text = (n % 3 === 0 ? '-' : '') + digit(1);
      for (let k = 1; k < integerDigits; k++) text += digit(0);
      text += '.';
      for (let k = 0; k < fractionDigits; k++) text += digit(0);
      const value = parse(text);
      expect({ text, value }).toEqual({ text, value: Number(text) });
      expect({ text, canonical: parsedDecimal.canonical }).toEqual({ text, canonical: formatFloat(value) === text });
    }
  });

  test('an overflowing exponent gives Infinity (the row is then rejected)', () => {
    expect(parse('1e999')).toBe(Infinity);
    expect(parse('-1e999')).toBe(-Infinity);
  });
});

describe('formatFloat (Python repr, as pandas to_csv writes floats)', () => {
  test.each([
    [48, '48.0'], [60000, '60000.0'], [60183.12852664577, '60183.12852664577'], [0.1, '0.1'], [-2.5, '-2.5'],
    [0, '0.0'], [-0, '-0.0'], [1e-4, '0.0001'], [1e-5, '1e-05'], [1.5e-7, '1.5e-07'], [9999999999999998, '9999999999999998.0'],
    [1e16, '1e+16'], [1.2345e17, '1.2345e+17'], [1e22, '1e+22'], [1e100, '1e+100'], [5e-324, '5e-324'], [0.30000000000000004, '0.30000000000000004'],
    [100000.01, '100000.01'], [NaN, ''],
  ])('%d prints as %j', (value, text) => {
    expect(formatFloat(value)).toBe(text);
  });

  test('writeFloat writes the same bytes, on the integer fast path too', () => {
    const buf = Buffer.alloc(64);
    for (const value of [0, 1, 7, 48, 60000, 2147483647, 2147483648, 1e15, 3.25, -1, -0, 1e-5]) {
      const end = writeFloat(buf, 3, value);
      expect(buf.toString('latin1', 3, end)).toBe(formatFloat(value));
    }
  });
});

describe('copying canonical number text instead of formatting it', () => {
  const canonical = (text: string): boolean => {
    parse(text);
    return parsedDecimal.canonical;
  };

  test.each(['77.0', '105202.35', '0.5', '-2.25', '0.0', '-0.0', '0.0001', '100000.01', '99999999999999.9'])(
    '%s prints as it is written',
    (text) => {
      expect(canonical(text)).toBe(true);
      expect(formatFloat(parse(text))).toBe(text);
    },
  );

  test.each(['77', '+7.0', '007.0', '.5', '5.', '2.50', '1e3', '0.00001', '1234567890123456.0', '12345678901234567.0', '0.1234567890123456'])(
    '%s is formatted, not copied',
    (text) => {
      expect(canonical(text)).toBe(false);
    },
  );

  test('whenever the text is taken as canonical, it is exactly what formatFloat prints', () => {
    let seed = 99;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let copied = 0;
    for (let k = 0; k < 20000; k++) {
      const whole = String(random(10) < 2 ? 0 : random(10 ** (1 + random(9))));
      const fraction = String(random(10 ** random(8))).padStart(random(8), '0');
      const text = `${random(4) === 0 ? '-' : ''}${whole}${random(10) === 0 ? '' : '.' + fraction}`;
      const value = parse(text);
      if (parsedDecimal.canonical) {
        copied++;
        expect({ text, printed: formatFloat(value) }).toEqual({ text, printed: text });
      }
    }
    expect(copied).toBeGreaterThan(5000);
  });
});

describe('parseInteger (ids)', () => {
  test('canonical ids are copied as they are', () => {
    expect(integer('17')).toEqual({ ok: true, canonical: undefined });
    expect(integer('-3')).toEqual({ ok: true, canonical: undefined });
    expect(integer('0')).toEqual({ ok: true, canonical: undefined });
  });

  test('other spellings print as pandas prints the integer', () => {
    expect(integer('007')).toEqual({ ok: true, canonical: '7' });
    expect(integer('+5')).toEqual({ ok: true, canonical: '5' });
    expect(integer('-0')).toEqual({ ok: true, canonical: '0' });
    expect(integer('000')).toEqual({ ok: true, canonical: '0' });
    expect(integer('-012')).toEqual({ ok: true, canonical: '-12' });
  });

  test('the int64 range is the limit', () => {
    expect(integer('9223372036854775807')).toEqual({ ok: true, canonical: undefined });
    expect(integer('-9223372036854775808')).toEqual({ ok: true, canonical: undefined });
    expect(integer('9223372036854775808')).toEqual({ ok: false, reason: 'out-of-range' });
    expect(integer('-9223372036854775809')).toEqual({ ok: false, reason: 'out-of-range' });
    expect(integer('123456789012345678901')).toEqual({ ok: false, reason: 'out-of-range' });
  });

  test.each(['', '-', '1.0', '1e3', ' 1', 'abc', '12a'])('%j is not an integer', (text) => {
    expect(integer(text)).toEqual({ ok: false, reason: 'not-integer' });
  });
});
