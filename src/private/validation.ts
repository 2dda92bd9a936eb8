import { Token } from 'aws-cdk-lib';

/**
 * Helpers that check props at synth time. Every message names the construct and the prop, and
 * tokens (values only known at deploy time) are never checked.
 */

/** Thrown for invalid construct props; the message names the construct and the prop. */
export class PropValidationError extends Error {
  constructor(construct: string, prop: string, problem: string) {
    super(`${construct}: invalid '${prop}': ${problem}`);
    this.name = 'PropValidationError';
  }
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** An IPv4 CIDR block as a number range, e.g. 10.10.0.0/16 → [first, last]. */
export interface CidrRange {
  readonly first: number;
  readonly last: number;
  readonly prefix: number;
}

/**
 * Parses an IPv4 CIDR and checks that its address is the network address and that its prefix
 * is within [minPrefix, maxPrefix].
 */
export function parseCidr(construct: string, prop: string, cidr: string, minPrefix: number, maxPrefix: number): CidrRange {
  const match = IPV4_CIDR.exec(cidr);
  if (!match) {
    throw new PropValidationError(construct, prop, `'${cidr}' is not an IPv4 CIDR block such as 10.10.0.0/16`);
  }
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255)) {
    throw new PropValidationError(construct, prop, `'${cidr}' has an octet above 255`);
  }
  if (prefix < minPrefix || prefix > maxPrefix) {
    throw new PropValidationError(construct, prop, `'${cidr}' must have a prefix length between /${minPrefix} and /${maxPrefix}`);
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) {
    throw new PropValidationError(construct, prop, `'${cidr}' is not a network address (host bits are set)`);
  }
  return { first: address, last: address + size - 1, prefix };
}

export function cidrContains(outer: CidrRange, inner: CidrRange): boolean {
  return inner.first >= outer.first && inner.last <= outer.last;
}

export function cidrsOverlap(a: CidrRange, b: CidrRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** Checks an integer prop against an inclusive range, unless it is a token. */
export function checkIntegerInRange(construct: string, prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PropValidationError(construct, prop, `${value} must be a whole number from ${min} to ${max}`);
  }
}

/** Checks a name against a length limit and a pattern, unless it is a token. */
export function checkName(construct: string, prop: string, value: string | undefined, maxLength: number, pattern: RegExp, rule: string): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (value.length === 0 || value.length > maxLength) {
    throw new PropValidationError(construct, prop, `'${value}' must be 1 to ${maxLength} characters long`);
  }
  if (!pattern.test(value)) {
    throw new PropValidationError(construct, prop, `'${value}' ${rule}`);
  }
}
