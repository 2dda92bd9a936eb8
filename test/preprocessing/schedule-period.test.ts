import { longestGapMinutes } from '../../src/preprocessing/schedule-period';

describe('longestGapMinutes: the longest time between two runs of a cron schedule', () => {
  test.each([
    ['* * * * *', 1],
    ['*/15 * * * *', 15],
    ['0 2 * * *', 24 * 60],
    ['0 9-17 * * *', 16 * 60],
    ['30 6,18 * * *', 12 * 60],
    ['0 0 * * MON', 7 * 24 * 60],
    ['0 0 * * 1-5', 3 * 24 * 60],
    ['0 0 * * 0', 7 * 24 * 60],
    ['0 0 * * 7', 7 * 24 * 60],
    // Either day field matching fires: the 1st of the month or any Sunday.
    ['0 0 1 * SUN', 7 * 24 * 60],
    ['0 3 1 * *', 31 * 24 * 60],
  ])('%s → %i minutes', (cron, minutes) => {
    expect(longestGapMinutes(cron)).toBe(minutes);
  });

  test('a schedule that never fires has no gap', () => {
    expect(longestGapMinutes('0 0 31 2 *')).toBeUndefined();
  });

  test('what it cannot read is an error', () => {
    expect(() => longestGapMinutes('0 25 * * *')).toThrow(/out of range/);
    expect(() => longestGapMinutes('@daily')).toThrow(/five-field/);
  });
});
