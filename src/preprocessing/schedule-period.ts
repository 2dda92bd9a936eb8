/**
 * The longest time between two runs of a five-field cron schedule (minute, hour, day of month,
 * month, day of week; UTC), for the `schedule()` trigger's "no successful run" alarm. Kubernetes'
 * CronJob reads the same syntax: numbers, `*`, ranges `a-b`, steps `/n`, lists, and names (`JAN`,
 * `MON`); day of week 7 is Sunday; when both day fields are restricted, either one matching fires.
 */

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
/** Eight years hold every gap, 29 February's included. */
const WINDOW_DAYS = 8 * 365 + 2;
const WINDOW_START = Date.UTC(2026, 0, 1);
const DAY_MS = 24 * 3600 * 1000;

interface Field {
  readonly values: Set<number>;
  /** `*` or `*\/1`: the field does not restrict. */
  readonly any: boolean;
}

/** Minutes between the two runs farthest apart; undefined when the schedule never fires. */
export function longestGapMinutes(cron: string): number | undefined {
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parseCron(cron);
  let previous: number | undefined;
  let longest: number | undefined;
  for (let day = 0; day < WINDOW_DAYS; day++) {
    const date = new Date(WINDOW_START + day * DAY_MS);
    if (!month.values.has(date.getUTCMonth() + 1) || !dayMatches(date, dayOfMonth, dayOfWeek)) continue;
    const dayMinute = day * 24 * 60;
    for (const h of hour.values) {
      for (const m of minute.values) {
        const at = dayMinute + h * 60 + m;
        if (previous !== undefined) longest = Math.max(longest ?? 0, at - previous);
        previous = at;
      }
    }
  }
  return longest;
}

function dayMatches(date: Date, dayOfMonth: Field, dayOfWeek: Field): boolean {
  const domMatch = dayOfMonth.values.has(date.getUTCDate());
  const dowMatch = dayOfWeek.values.has(date.getUTCDay());
  if (dayOfMonth.any || dayOfWeek.any) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

/** The five fields as sets of values (sorted ascending); throws on anything it cannot read. */
function parseCron(cron: string): Field[] {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`'${cron}' is not a five-field cron expression`);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields;
  const weekdays = parseField(dayOfWeek, 0, 7, WEEKDAYS);
  // 7 is Sunday too.
  if (weekdays.values.delete(7)) weekdays.values.add(0);
  return [
    parseField(minute, 0, 59),
    parseField(hour, 0, 23),
    parseField(dayOfMonth, 1, 31),
    parseField(month, 1, 12, MONTHS, 1),
    { any: weekdays.any, values: new Set([...weekdays.values].sort((a, b) => a - b)) },
  ];
}

function parseField(text: string, min: number, max: number, names: string[] = [], firstName = 0): Field {
  const values = new Set<number>();
  const any = text === '*' || text === '?' || text === '*/1';
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`bad step in '${part}'`);
    let [from, to] = [min, max];
    if (range !== '*' && range !== '?') {
      const [a, b] = range.split('-');
      from = valueOf(a, names, firstName);
      to = b === undefined ? (stepText === undefined ? from : max) : valueOf(b, names, firstName);
    }
    if (from < min || to > max || from > to) throw new Error(`'${part}' is out of range ${min}-${max}`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return { any, values: new Set([...values].sort((a, b) => a - b)) };
}

function valueOf(text: string, names: string[], firstName: number): number {
  const named = names.indexOf(text.toUpperCase());
  if (named >= 0) return named + firstName;
  if (!/^\d+$/.test(text)) throw new Error(`'${text}' is not a number`);
  return Number(text);
}
