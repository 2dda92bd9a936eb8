/**
 * Thrift's compact protocol, the encoding of Parquet's page headers and footer: just what writing
 * structs of integers, strings, binaries and lists takes.
 *
 * Written here rather than taken from Apache Thrift's Node library (npm `thrift`): requiring that
 * library took 200-300 ms in each thread on this machine (the processor starts a worker per CPU,
 * and its whole job takes about 2 s), and it depends on uuid 14, which is ESM-only. The protocol is
 * small: varints, zigzag integers, field headers that carry the delta of the field id.
 * Spec: the Thrift compact protocol (thrift/doc/specs/thrift-compact-protocol.md).
 */

/** Compact protocol type ids. */
export const CompactType = {
  TRUE: 1,
  FALSE: 2,
  I16: 4,
  I32: 5,
  I64: 6,
  BINARY: 8,
  LIST: 9,
  STRUCT: 12,
} as const;

/** Writes one compact-protocol message (a struct) into a growing buffer. */
export class CompactWriter {
  buf = Buffer.allocUnsafe(256);
  pos = 0;
  /** The last field id of each open struct (field headers carry the delta). */
  private readonly lastIds: number[] = [];
  private lastId = 0;

  /** The bytes written. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  i32(id: number, value: number): void {
    this.fieldHeader(id, CompactType.I32);
    this.zigzag(value);
  }

  i64(id: number, value: number): void {
    this.fieldHeader(id, CompactType.I64);
    this.zigzag(value);
  }

  /** An i16 field (zigzag varint like the others). */
  i16(id: number, value: number): void {
    this.fieldHeader(id, CompactType.I16);
    this.zigzag(value);
  }

  bool(id: number, value: boolean): void {
    this.fieldHeader(id, value ? CompactType.TRUE : CompactType.FALSE);
  }

  binary(id: number, value: Uint8Array): void {
    this.fieldHeader(id, CompactType.BINARY);
    this.rawBinary(value);
  }

  string(id: number, value: string): void {
    this.binary(id, Buffer.from(value, 'utf8'));
  }

  /** Opens a struct field; close it with {@link structEnd}. */
  structBegin(id: number): void {
    this.fieldHeader(id, CompactType.STRUCT);
    this.enterStruct();
  }

  /** Closes the struct opened last (a field or a list element). */
  structEnd(): void {
    this.byte(0); // STOP
    this.lastId = this.lastIds.pop()!;
  }

  /** Opens a struct that is a list element (no field header); close it with {@link structEnd}. */
  elementBegin(): void {
    this.enterStruct();
  }

  /** A list field's header; then write `size` elements of `elementType`. */
  listBegin(id: number, elementType: number, size: number): void {
    this.fieldHeader(id, CompactType.LIST);
    if (size < 15) {
      this.byte((size << 4) | elementType);
    } else {
      this.byte(0xf0 | elementType);
      this.varint(size);
    }
  }

  /** A list element of type I32. */
  elementI32(value: number): void {
    this.zigzag(value);
  }

  /** A list element of type BINARY. */
  elementString(value: string): void {
    this.rawBinary(Buffer.from(value, 'utf8'));
  }

  /** Ends the top-level struct. */
  end(): Buffer {
    this.byte(0); // STOP
    return this.bytes();
  }

  private enterStruct(): void {
    this.lastIds.push(this.lastId);
    this.lastId = 0;
  }

  private fieldHeader(id: number, type: number): void {
    const delta = id - this.lastId;
    if (delta > 0 && delta <= 15) {
      this.byte((delta << 4) | type);
    } else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastId = id;
  }

  private rawBinary(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Zigzag then varint; exact for |value| < 2^52, which covers every size, count and offset here. */
  private zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  private varint(value: number): void {
    this.ensure(10);
    while (value >= 0x80) {
      this.buf[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.pos++] = value;
  }

  private byte(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}
