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
//   6 ISO   u8 slot, u8 slot             the time in the first slot (epoch ms) as quoted ISO-8601 text at
//                                         the offset in the second (minutes): "2026-03-02T09:00:00.000+01:00"
//                                         ("...Z" at offset 0)

let recordShift: usize = 7; // log2 of a record's bytes: 7 for 16 f64 slots (wfsim's events), more for shaped records
const INT_CACHE_SLOTS: usize = 64;

let templateTable: usize = 0; // per type: u32 code offset, u32 upper bound of its line without strings
let stringIndex: usize = 0; // per string: u32 offset, u32 length
let digitPairs: usize = 0; // "00".."99"
let resultCell: usize = 0; // u32 bytes written by the last format call
let intCache: usize = 0; // per slot: f64 last value, u32 length, 4 unused, 16 bytes of its text (32 bytes)

export function setup(templates: usize, strings: usize, pairs: usize, result: usize, cache: usize, shift: usize): void {
  templateTable = templates;
  stringIndex = strings;
  digitPairs = pairs;
  resultCell = result;
  intCache = cache;
  recordShift = shift;
  isoSecond = i64.MIN_VALUE;
  for (let slot: usize = 0; slot < INT_CACHE_SLOTS; slot++) store<f64>(intCache + (slot << 5), NaN);
}

@inline function twoDigits(at: usize, v: u32): void {
  store<u16>(at, load<u16>(digitPairs + (<usize>v << 1)));
}

// The local second last written by writeIso and its text up to the seconds ('"2026-03-02T09:00:00',
// 20 bytes): records come in time order, many to a second, so the date arithmetic (a dozen 64-bit
// divisions) runs once per second of event time rather than once per record.
let isoSecond: i64 = i64.MIN_VALUE;
let isoHead0: u64 = 0;
let isoHead1: u64 = 0;
let isoHead2: u32 = 0;

/** Writes `ms` at `offset` minutes as quoted ISO-8601 text; returns the end. */
function writeIso(out: usize, ms: f64, offset: f64): usize {
  const local = <i64>ms + <i64>offset * 60000;
  let second = local / 1000;
  let millis = local - second * 1000;
  if (millis < 0) {
    millis += 1000;
    second -= 1;
  }
  if (second == isoSecond) {
    store<u64>(out, isoHead0);
    store<u64>(out, isoHead1, 8);
    store<u32>(out, isoHead2, 16);
  } else {
    let days = second / 86400;
    let inDay = second - days * 86400;
    if (inDay < 0) {
      inDay += 86400;
      days -= 1;
    }
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    const z = days + 719468;
    const era = (z >= 0 ? z : z - 146096) / 146097;
    const doe = z - era * 146097;
    const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const mp = (5 * doy + 2) / 153;
    const day = <u32>(doy - (153 * mp + 2) / 5 + 1);
    const month = <u32>(mp < 10 ? mp + 3 : mp - 9);
    const year = <u32>(yoe + era * 400 + (month <= 2 ? 1 : 0));
    const secondOfDay = <u32>inDay;
    store<u8>(out, 34);
    twoDigits(out + 1, year / 100);
    twoDigits(out + 3, year % 100);
    store<u8>(out + 5, 45);
    twoDigits(out + 6, month);
    store<u8>(out + 8, 45);
    twoDigits(out + 9, day);
    store<u8>(out + 11, 84);
    twoDigits(out + 12, secondOfDay / 3600);
    store<u8>(out + 14, 58);
    twoDigits(out + 15, (secondOfDay / 60) % 60);
    store<u8>(out + 17, 58);
    twoDigits(out + 18, secondOfDay % 60);
    isoSecond = second;
    isoHead0 = load<u64>(out);
    isoHead1 = load<u64>(out, 8);
    isoHead2 = load<u32>(out, 16);
  }
  store<u8>(out + 20, 46);
  const ms3 = <u32>millis;
  store<u8>(out + 21, <u8>(48 + ms3 / 100));
  twoDigits(out + 22, ms3 % 100);
  let o = out + 24;
  const minutes = <i32>offset;
  if (minutes == 0) {
    store<u8>(o, 90); // Z
    o += 1;
  } else {
    const abs = <u32>(minutes < 0 ? -minutes : minutes);
    store<u8>(o, minutes < 0 ? 45 : 43);
    twoDigits(o + 1, abs / 60);
    store<u8>(o + 3, 58);
    twoDigits(o + 4, abs % 60);
    o += 6;
  }
  store<u8>(o, 34);
  return o + 1;
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
    const record = records + (<usize>done << recordShift);
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
      } else if (op == 6) {
        const ms = load<f64>(record + (<usize>load<u8>(code, 1) << 3));
        const offset = load<f64>(record + (<usize>load<u8>(code, 2) << 3));
        o = writeIso(o, ms, offset);
        code += 3;
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
