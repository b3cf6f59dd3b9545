/**
 * Event times as ISO-8601 text with the offset of a time zone, as shaped records write them
 * (`2026-03-02T09:00:00.000+01:00`; `Z` where the offset is 0). The offset is asked of Intl once per
 * quarter of an hour and reused: zones change offset on quarter hours, and a quarter whose two ends
 * disagree (a change inside it) is looked up for every time in it.
 */
const QUARTER_MS = 15 * 60_000;
/** "000" to "999". */
const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));

export class ZonedTime {
  private readonly format: Intl.DateTimeFormat | undefined;
  private quarter = NaN;
  private offset = 0;
  /** The second last written, its text up to the milliseconds, and its offset's text. */
  private second = NaN;
  private head = "";
  private tail = "";

  /** `zone` an IANA name; "UTC" (or any zone at offset 0) writes Z. */
  constructor(zone: string) {
    this.format = zone === "UTC" ? undefined : new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
  }

  /** The zone's offset from UTC at `ms`, in minutes. */
  offsetMinutes(ms: number): number {
    if (this.format === undefined) return 0;
    const quarter = Math.floor(ms / QUARTER_MS);
    if (quarter === this.quarter) return this.offset;
    const start = this.lookUp(quarter * QUARTER_MS);
    const end = this.lookUp(quarter * QUARTER_MS + QUARTER_MS - 1);
    if (start !== end) return this.lookUp(ms);
    this.quarter = quarter;
    this.offset = start;
    return start;
  }

  iso(ms: number): string {
    // Records come in time order, many to a second: the date and time up to the second are kept.
    const second = Math.floor(ms / 1000);
    const millis = ms - second * 1000;
    if (second !== this.second) {
      const offset = this.offsetMinutes(ms);
      const local = new Date(ms + offset * 60_000).toISOString();
      this.second = second;
      this.head = local.slice(0, 20);
      this.tail = offset === 0 ? "Z" : formatOffset(offset);
    }
    return this.head + MILLIS[millis]! + this.tail;
  }

  private lookUp(ms: number): number {
    const name = this.format!.formatToParts(ms).find((part) => part.type === "timeZoneName")?.value ?? "GMT";
    const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
    if (match === null) return 0;
    const minutes = Number(match[2]) * 60 + Number(match[3]);
    return match[1] === "-" ? -minutes : minutes;
  }
}

/** +01:00 for 60, -03:30 for -210. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** ISO-8601 in UTC with Z, milliseconds included. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}
