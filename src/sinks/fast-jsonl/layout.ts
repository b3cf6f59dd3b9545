/**
 * Memory layout of the line writer's WebAssembly instance. JavaScript owns it: the module only reads
 * templates, strings and records from these places and writes lines into the output area.
 */
export const RECORD_SLOTS = 16; // f64 slots per record of wfsim's events: 0 = type index, 1.. = fields
export const RECORD_SHIFT = 7; // log2 of RECORD_SLOTS * 8
export const MAX_FIELDS = RECORD_SLOTS - 1;
/**
 * Shaped records: up to 64 slots (the line writer's integer cache covers 64); each shape's records
 * are as wide as its widest template needs (wasm-lines.ts).
 */
export const SHAPED_RECORD_SLOTS = 64;

const KIB = 1024;
const MIB = 1024 * KIB;

export const LAYOUT = {
  /** Per event type: u32 code offset, u32 upper bound of its line without strings. */
  templateTable: 64 * KIB,
  templateCode: 72 * KIB,
  templateCodeEnd: 136 * KIB,
  digitPairs: 136 * KIB,
  resultCell: 137 * KIB,
  intCache: 138 * KIB,
  /** Per string: u32 offset, u32 length. */
  stringIndex: 256 * KIB,
  stringCapacity: 64 * KIB, // entries
  stringBytes: 1 * MIB,
  stringBytesEnd: 5 * MIB,
  records: 5 * MIB,
  recordsEnd: 6 * MIB,
  output: 6 * MIB,
  outputEnd: 8 * MIB,
  totalBytes: 8 * MIB,
} as const;

export const OPS = { END: 0, LIT: 1, INT: 2, BOOL: 3, STR: 4, OPT: 5, ISO: 6 } as const;
