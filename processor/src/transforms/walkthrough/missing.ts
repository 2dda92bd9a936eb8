/**
 * Which cells are missing values (SPEC §5): an empty cell, and by default the tokens that the
 * walkthrough's `pd.read_csv` treats as missing (its defaults since pandas 2), whole cell,
 * case-sensitive. `--na-values empty` keeps only the empty cell.
 */
import type { NaValuesMode } from '../../runtime/transform';

/** pandas' default `na_values` (pandas 2; Debian's 1.5.3 lacks `None`). */
export const PANDAS_NA_TOKENS = [
  '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>',
  'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null',
] as const;


/** No token is longer than this (`#N/A N/A`, `-1.#QNAN`). */
const MAX_TOKEN_BYTES = 8;

/**
 * Recognises missing cells on the bytes. Text columns are checked on every row, so a cell is
 * compared with the tokens only when its length and first byte could start one: for the usual
 * cells (`Name_412`, `2019-03-02`, `IT`) that is one table lookup.
 */
export class MissingValues {
  static forMode(mode: NaValuesMode): MissingValues {
    return new MissingValues(mode === 'default' ? PANDAS_NA_TOKENS : []);
  }

  /** Bit `n` of entry `b`: some token of `n` bytes starts with byte `b`. */
  private readonly lengthsByFirstByte = new Uint16Array(256);
  private readonly tokens: readonly Buffer[];

  private constructor(tokens: readonly string[]) {
    this.tokens = tokens.map((t) => Buffer.from(t, 'latin1'));
    for (const token of this.tokens) this.lengthsByFirstByte[token[0]] |= 1 << token.length;
  }

  /** Whether `buf[start, end)` is a missing value: empty, or one of the tokens. */
  isMissing(buf: Uint8Array, start: number, end: number): boolean {
    return start === end || this.isToken(buf, start, end);
  }

  /** Whether the non-empty cell `buf[start, end)` is one of the tokens. */
  isToken(buf: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    if (length > MAX_TOKEN_BYTES || (this.lengthsByFirstByte[buf[start]] & (1 << length)) === 0) return false;
    for (const token of this.tokens) {
      if (token.length === length && sameBytes(token, buf, start)) return true;
    }
    return false;
  }
}

function sameBytes(token: Buffer, buf: Uint8Array, start: number): boolean {
  for (let k = 0; k < token.length; k++) {
    if (buf[start + k] !== token[k]) return false;
  }
  return true;
}
