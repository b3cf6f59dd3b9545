// AssemblyScript: compiled to build/line-writer.wasm by `npm run build:wasm`.
//
// Writes event records as JSON lines by interpreting line templates. JavaScript owns the memory
// layout: it stores the templates (bytecode derived from the event schemas), the string table and a
// batch of records, then calls `format`. This file knows nothing about wfsim's events, only how to
// follow a template; src/sinks/fast-jsonl/ explains the layout.
//
// Template bytecode:
//   0 END
//   1 LIT   u16 length, bytes          constant text
//   2 INT   u8 slot                     integer held as f64 in the record's slot
//   3 BOOL  u8 slot                     true when the slot is not 0
//   4 STR   u8 slot                     string-table entry whose index is in the slot (JSON text)
//   5 OPT   u8 slot, u16 skip           when the slot holds NaN, skip the next `skip` bytes of code

const RECORD_SHIFT: usize = 7; // 16 f64 slots = 128 bytes per record

let templateTable: usize = 0; // per type: u32 code offset, u32 upper bound of its line without strings
let stringIndex: usize = 0; // per string: u32 offset, u32 length
let digitPairs: usize = 0; // "00".."99"
let resultCell: usize = 0; // u32 bytes written by the last format call
let intCache: usize = 0; // per slot: f64 last value, u32 length, 4 unused, 16 bytes of its text (32 bytes)

export function setup(templates: usize, strings: usize, pairs: usize, result: usize, cache: usize): void {
  templateTable = templates;
  stringIndex = strings;
  digitPairs = pairs;
  resultCell = result;
  intCache = cache;
  for (let slot: usize = 0; slot < 16; slot++) store<f64>(intCache + (slot << 5), NaN);
}

/**
 * Copies `length` bytes 8 at a time. It may write up to 7 bytes past dst + length: the caller only
 * copies into the output area, which keeps 8 bytes of slack, and what follows overwrites them.
 */
@inline function copy(dst: usize, src: usize, length: usize): void {
  const end = dst + length;
  while (dst < end) {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
  }
}

@inline function digitCount(v: u64): usize {
  if (v < 100000000) {
    if (v < 10000) return v < 100 ? (v < 10 ? 1 : 2) : v < 1000 ? 3 : 4;
    return v < 1000000 ? (v < 100000 ? 5 : 6) : v < 10000000 ? 7 : 8;
  }
  let count: usize = 8;
  let rest = v / 100000000;
  while (rest >= 10) {
    rest /= 10;
    count++;
  }
  return count + 1;
}

/** Writes the decimal digits of v ending just before `end`. */
@inline function writeDigitsBackwards(end: usize, v: u64): void {
  let p = end;
  while (v >= 4294967296) {
    const q = v / 100;
    p -= 2;
    store<u16>(p, load<u16>(digitPairs + (<usize>(v - q * 100) << 1)));
    v = q;
  }
  let small = <u32>v;
  while (small >= 100) {
    const q = small / 100;
    p -= 2;
    store<u16>(p, load<u16>(digitPairs + (<usize>(small - q * 100) << 1)));
    small = q;
  }
  if (small >= 10) store<u16>(p - 2, load<u16>(digitPairs + (<usize>small << 1)));
  else store<u8>(p - 1, <u8>(48 + small));
}

@inline function writeInteger(out: usize, slot: usize, value: f64): usize {
  const cache = intCache + (slot << 5);
  if (load<f64>(cache) == value) {
    const length = <usize>load<u32>(cache, 8);
    copy(out, cache + 16, length);
    return out + length;
  }
  let o = out;
  let magnitude = value;
  if (value < 0) {
    store<u8>(o, 45); // '-'
    o++;
    magnitude = -value;
  }
  const v = <u64>magnitude;
  const count = digitCount(v);
  writeDigitsBackwards(o + count, v);
  const length = o + count - out;
  if (length <= 16) {
    store<f64>(cache, value);
    store<u32>(cache, <u32>length, 8);
    store<u64>(cache + 16, load<u64>(out));
    store<u64>(cache + 24, load<u64>(out, 8));
  }
  return out + length;
}

/**
 * Formats records[0..count) into out..outEnd, stopping before a record that might not fit.
 * Returns how many records were formatted; the byte count goes to the result cell.
 */
export function format(records: usize, count: i32, out: usize, outEnd: usize): i32 {
  let o = out;
  let done = 0;
  for (; done < count; done++) {
    const record = records + (<usize>done << RECORD_SHIFT);
    const entry = templateTable + (<usize>load<f64>(record) << 3);
    let code = <usize>load<u32>(entry);
    // The template's bound covers everything but strings, which are checked as they come; a record
    // that does not fit is rolled back and left for the next call.
    const bound = <usize>load<u32>(entry, 4) + 8;
    const start = o;
    if (o + bound > outEnd) break;
    let fits = true;
    while (true) {
      const op = load<u8>(code);
      if (op == 1) {
        const length = <usize>load<u16>(code, 1);
        copy(o, code + 3, length);
        o += length;
        code += 3 + length;
      } else if (op == 2) {
        const slot = <usize>load<u8>(code, 1);
        o = writeInteger(o, slot, load<f64>(record + (slot << 3)));
        code += 2;
      } else if (op == 3) {
        if (load<f64>(record + (<usize>load<u8>(code, 1) << 3)) != 0) {
          store<u32>(o, 0x65757274); // "true"
          o += 4;
        } else {
          store<u32>(o, 0x736c6166); // "fals"
          store<u8>(o, 0x65, 4); // "e"
          o += 5;
        }
        code += 2;
      } else if (op == 4) {
        const entryOffset = stringIndex + (<usize>load<f64>(record + (<usize>load<u8>(code, 1) << 3)) << 3);
        const length = <usize>load<u32>(entryOffset, 4);
        if (o + length + bound > outEnd) {
          fits = false;
          break;
        }
        copy(o, <usize>load<u32>(entryOffset), length);
        o += length;
        code += 2;
      } else if (op == 5) {
        const value = load<f64>(record + (<usize>load<u8>(code, 1) << 3));
        const skip = <usize>load<u16>(code, 2);
        code += 4;
        if (value != value) code += skip;
      } else {
        break;
      }
    }
    if (!fits) {
      o = start;
      break;
    }
  }
  store<u32>(resultCell, <u32>(o - out));
  return done;
}
