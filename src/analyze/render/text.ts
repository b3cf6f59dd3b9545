/** The report as a person reads it in a terminal. */
import type { Summary } from "../measure/frequency.ts";
import type {
  DeliveryFaultsReport,
  FaultFinding,
  AnalysisReport,
  FlaggedTransaction,
  GroundTruthReport,
  InvalidLine,
  KafkaInputReport,
  KafkaTopicReport,
  OverTimeReport,
  StepBaselineReport,
  StepFigureReport,
  ViolationKind,
  WorkflowReport,
} from "../report.ts";
import { VIOLATION_KINDS } from "../report.ts";

const integer = new Intl.NumberFormat("en-US");
const decimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const n = (value: number) => integer.format(value);
const ms = (value: number | null) => (value === null ? "-" : Number.isInteger(value) ? integer.format(value) : decimal.format(value));
const percent = (value: number | null) => (value === null ? "n/a" : `${(value * 100).toFixed(2)}%`);

function time(ts: number | null): string {
  if (ts === null) return "-";
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? `ts_ms ${ts}` : date.toISOString();
}

function span(value: number): string {
  if (value < 1000) return `${value} ms`;
  const seconds = value / 1000;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const minutes = seconds / 60;
  if (minutes < 120) return `${minutes.toFixed(1)} min`;
  const hours = minutes / 60;
  return hours < 48 ? `${hours.toFixed(1)} h` : `${(hours / 24).toFixed(1)} d`;
}

const VIOLATION_TITLES: Record<ViolationKind, string> = {
  out_of_order: "out of order",
  missing_steps: "missing steps",
  duplicates: "duplicate events",
  close_without_open: "closed without open",
  never_closed: "never closed",
};

function table(rows: readonly [string, Summary][]): string[] {
  const header = ["", "count", "min", "mean", "p50", "p90", "p95", "p99", "max"];
  const cells = rows.map(([name, s]) => [name, n(s.count), ms(s.min), ms(s.mean), ms(s.p50), ms(s.p90), ms(s.p95), ms(s.p99), ms(s.max)]);
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")}`.trimEnd();
  return [line(header), ...cells.map(line)];
}

/** Columns right-aligned but the first. */
function aligned(header: readonly string[], cells: readonly (readonly string[])[]): string[] {
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")}`.trimEnd();
  return [line(header), ...cells.map(line)];
}

function workflowTable(workflows: readonly WorkflowReport[]): string[] {
  const header = ["", "transactions", "completed", "failed", "aborted", "open", "stuck", "step failures", "retries", "p50", "p95", "p99", "max"];
  const cells = workflows.map((workflow) => {
    const { name, transactions: t, duration_ms: w } = workflow;
    return [
    name,
    n(t.total),
    n(t.completed),
    n(t.failed),
    n(t.aborted),
    n(t.open),
    n(t.stuck),
    n(workflow.step_failures),
    n(workflow.retries),
    ms(w.p50),
    ms(w.p95),
    ms(w.p99),
    ms(w.max),
    ];
  });
  return aligned(header, cells);
}

/** Per workflow step: work, pre-step wait and the gap to the next step (p50/p90/p99 > threshold: above), failures, retries, stuck. */
function stepTable(steps: readonly StepBaselineReport[]): string[] {
  const cell = (f: StepFigureReport | null) =>
    f === null ? "-" : `${ms(f.p50_ms)}/${ms(f.p90_ms)}/${ms(f.p99_ms)}${f.threshold_ms === null ? "" : ` > ${ms(Math.round(f.threshold_ms))}: ${n(f.above_threshold ?? 0)}`}`;
  const header = ["step", "count", "work p50/p90/p99 > threshold: above", "pre-wait", "gap to next step", "failures", "retries", "stuck"];
  const cells = steps.map((s) => [
    `${s.workflow ?? "(no workflow)"} ${s.step}`,
    n(s.work_ms?.count ?? 0),
    cell(s.work_ms),
    cell(s.pre_wait_ms),
    cell(s.gap_ms),
    n(s.failures),
    n(s.retries),
    n(s.stuck),
  ]);
  return aligned(header, cells);
}

/** "1 min" for 60000: an interval's width as a person reads it. */
export function intervalName(width: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["min", 60_000], ["s", 1000]] as const) {
    if (width >= size && width % size === 0) return `${width / size} ${unit}`;
  }
  return `${width} ms`;
}

function overTimeLines(o: OverTimeReport): string[] {
  if (o.rows.length === 0) return [];
  const how =
    o.chosen_by === "auto"
      ? `the smallest of 1 s, 10 s, 1 min, 5 min, 15 min, 1 h, 6 h, 1 d, 7 d giving at most ${o.max_rows} rows; --interval to choose`
      : o.coarsened
        ? `--interval ${intervalName(o.asked_ms!)} would make over ${n(o.max_rows)} rows: doubled`
        : "--interval";
  const header = ["interval start (UTC)", "opened", "completed", "failed", "aborted", "events", "events/s", "p50", "p99", "max", "findings"];
  const cells = o.rows.map((r) => [
    time(r.start_ts_ms).replace(".000Z", "Z"),
    n(r.opened),
    n(r.completed),
    n(r.failed),
    n(r.aborted),
    n(r.events),
    decimal.format(r.events_per_s),
    ms(r.duration_p50_ms),
    ms(r.duration_p99_ms),
    ms(r.duration_max_ms),
    n(Object.values(r.findings).reduce((sum, count) => sum + count, 0)),
  ]);
  return [
    `Over time, per ${intervalName(o.interval_ms)} (${how}; p50/p99/max: durations in ms of the transactions completed then, p50 and p99 to within 0.8%)`,
    ...aligned(header, cells),
  ];
}

function flaggedLine(t: FlaggedTransaction): string {
  const gap = t.max_gap_ms === null ? "no complete gap" : `largest gap ${ms(t.max_gap_ms)} ms after step ${t.max_gap_after_step}`;
  const duration = t.duration_ms === null ? "" : `, duration ${ms(t.duration_ms)} ms`;
  if (t.group != null && t.threshold_ms != null) {
    const what = t.max_gap_after_step === null || !t.group.includes("->") ? "duration" : "gap";
    return `    ${t.txn_id}  ${what} ${t.value_ms === null ? "none" : ms(t.value_ms)} ms in ${t.group} (threshold ${ms(Math.round(t.threshold_ms))} ms)${t.injected ? "  [injected]" : "  [not injected]"}`;
  }
  if (t.group === null && t.value_ms === null && t.threshold_ms === null) return `    ${t.txn_id}  injected gap not measured  [injected]`;
  return `    ${t.txn_id}  ${gap}${duration}${t.injected ? "  [injected]" : "  [not injected]"}`;
}

const where = (place: { source: string; line: number }) => `${place.source}:${place.line}`;

export function renderText(report: AnalysisReport): string {
  const out: string[] = [];
  const typeCounts = Object.entries(report.events_by_type)
    .filter(([, count]) => count > 0)
    .map(([type, count]) => `${type} ${n(count)}`)
    .join(", ");
  out.push(`wfsim analyze: ${report.sources.join(", ") || "(no input)"}`);
  if (report.kafka !== undefined) out.push(...kafkaLines(report.kafka));
  out.push(`  ${n(report.events)} events${typeCounts === "" ? "" : ` (${typeCounts})`}`);
  const extras: string[] = [`${n(report.invalid_lines)} invalid lines`];
  if (report.unknown_type_events > 0) extras.push(`${n(report.unknown_type_events)} events of unknown types (not analysed)`);
  if (report.events_with_extra_fields > 0) extras.push(`${n(report.events_with_extra_fields)} events with extra fields (tolerated)`);
  out.push(`  ${extras.join(", ")}`);
  const spanOf = report.time_span;
  if (spanOf.span_ms !== null) out.push(`  from ${time(spanOf.first_ts_ms)} to ${time(spanOf.last_ts_ms)} (${span(spanOf.span_ms)})`);
  const t = report.transactions;
  out.push("");
  const stuck = t.stuck > 0 ? `, ${n(t.stuck)} of them stuck as labelled` : "";
  out.push(`Transactions: ${n(t.total)} (${n(t.completed)} completed, ${n(t.aborted)} aborted, ${n(t.failed)} failed, ${n(t.open)} still open${stuck})`);
  out.push(`  peak concurrency ${n(report.concurrency.peak)} open at once${report.concurrency.peak_ts_ms === null ? "" : `, first reached at ${time(report.concurrency.peak_ts_ms)}`}`);
  out.push("");
  out.push("Distributions in ms (percentiles: nearest rank, always an observed value)");
  out.push(
    ...table([
      ["duration", report.duration_ms],
      ["first event to close", report.first_event_to_close_ms],
      ["gap between steps", report.gap_ms],
      ["pre-step delay", report.pre_delay_ms],
      ...(report.retry_backoff_ms.count > 0 ? [["retry backoff", report.retry_backoff_ms] as [string, Summary]] : []),
    ]),
  );

  if (report.workflows.length > 0) {
    out.push("");
    out.push("By workflow (durations of completed transactions, ms)");
    out.push(...workflowTable(report.workflows));
  }

  const measuredSteps = report.step_baselines.filter((s) => s.work_ms !== null || s.pre_wait_ms !== null || s.gap_ms !== null || s.failures > 0 || s.stuck > 0);
  if (measuredSteps.length > 0) {
    out.push("");
    out.push("By workflow step (ms, p50/p90/p99; threshold: median + k × 1.4826 × upper MAD of ln(1 + ms), from 30 measurements; stuck: went silent in the step)");
    out.push(...stepTable(measuredSteps));
  }
  const overTime = overTimeLines(report.over_time);
  if (overTime.length > 0) out.push("", ...overTime);

  const o = report.outliers;
  const rule = o.rule;
  const judged = rule.measure === "gap" ? "largest gap between steps" : "duration";
  out.push("");
  if (rule.method === "grouped") {
    const unit = rule.measure === "gap" ? "gap" : "duration";
    out.push(
      `Outliers: each ${unit} flagged when ln(1 + ms) exceeds median + ${rule.k} × 1.4826 × upper MAD of its group's` +
        ` (${rule.measure === "gap" ? "workflow and gap from_step -> to_step" : "workflow"}; under ${rule.min_group} measurements, the workflow's or all)`,
    );
    for (const g of o.groups ?? []) {
      const name = `${g.workflow ?? "(no workflow)"}${g.from_step === null ? "" : ` ${g.from_step} -> ${g.to_step}`}`;
      out.push(
        `    ${name}: ${n(g.count)} measured, median ${ms(g.median_ms)} ms, threshold ${ms(Math.round(g.threshold_ms))} ms` +
          `${g.baseline === "group" ? "" : ` (${g.baseline}'s baseline)`}; flagged ${n(g.flagged)}, injected ${n(g.injected)}, found ${n(g.true_positives)}`,
      );
    }
    out.push(
      `  injected ${n(o.injected)} transactions (${n(o.injected_gaps)} gaps); ${unit}s flagged ${n(o.flagged)}, true positives ${n(o.true_positives)},` +
        ` precision ${percent(o.precision)}, recall ${percent(o.recall)}`,
    );
    const b = o.by_transaction;
    if (unit === "gap") {
      const bound = b.exact ? "" : ` (at least; at most ${n(b.flagged_at_most)}: not exact in bounded memory here)`;
      out.push(
        `  by transaction (flagged when any of its gaps is, as the pooled rule counts): ${n(b.flagged)} flagged${bound}, true positives ${n(b.true_positives)}` +
          ` of ${n(o.injected)} injected, precision ${percent(b.precision)}, recall ${percent(b.recall)}`,
      );
    }
  } else if (rule.threshold_ms === null) out.push(`Outliers: nothing to judge (no ${rule.measure === "gap" ? "gaps" : "durations"} measured)`);
  else if (rule.method === "fixed") out.push(`Outliers: flagged when the ${judged} exceeds ${ms(rule.threshold_ms)} ms (fixed threshold)`);
  else {
    out.push(
      `Outliers: flagged when the ${judged} exceeds ${decimal.format(rule.threshold_ms)} ms` +
        ` = median ${ms(rule.median_ms)} + ${rule.k} × 1.4826 × MAD ${ms(rule.mad_ms)} (all ${rule.measure === "gap" ? "gaps" : "durations"})`,
    );
  }
  if (rule.method !== "grouped") out.push(
    `  injected ${n(o.injected)} transactions (${n(o.injected_gaps)} gaps), flagged ${n(o.flagged)}, true positives ${n(o.true_positives)},` +
      ` precision ${percent(o.precision)}, recall ${percent(o.recall)}`,
  );
  if (o.transactions.length > 0) {
    out.push(`  flagged, most extreme first${o.truncated ? ` (${n(o.transactions.length)} of ${n(o.flagged)})` : ""}:`);
    out.push(...o.transactions.map(flaggedLine));
  }
  if (o.missed.length > 0) {
    out.push(`  injected but not flagged${o.false_negatives > o.missed.length ? ` (${n(o.missed.length)} of ${n(o.false_negatives)})` : ""}:`);
    out.push(...o.missed.map(flaggedLine));
  }

  const truthLines = groundTruthLines(report.ground_truth, report.outliers.injected);
  if (truthLines.length > 0) out.push("", ...truthLines);

  const a = report.alerts;
  if (a !== undefined) {
    out.push("");
    out.push(`Alerts from ${a.source}: ${n(a.alerted)} transactions alerted on (${n(a.lines)} lines, ${n(a.invalid_lines)} invalid)`);
    out.push(
      `  to find: ${n(a.labelled)} transactions with an injected outlier or stuck; true positives ${n(a.true_positives)},` +
        ` false positives ${n(a.false_positives)} (${n(a.unknown_transactions)} not in the stream),` +
        ` missed ${n(a.false_negatives)}; precision ${percent(a.precision)}, recall ${percent(a.recall)}`,
    );
    const kinds = [
      ["outliers", a.by_kind.outlier],
      ["stuck", a.by_kind.stuck],
    ] as const;
    if (a.alerts_with_kind > 0) {
      out.push(`  by kind (alerts matched by their kind):`);
      for (const [name, k] of kinds) {
        out.push(
          `    ${name}: ${n(k.alerted ?? 0)} alerted, ${n(k.true_positives ?? 0)} right, ${n(k.false_positives ?? 0)} wrong;` +
            ` ${n(k.detected)} of ${n(k.labelled)} found; precision ${percent(k.precision)}, recall ${percent(k.recall)}`,
        );
      }
      const others = Object.entries(a.other_kinds);
      if (others.length > 0) out.push(`    other kinds (pooled figures only): ${others.map(([kind, count]) => `${kind} ${n(count)}`).join(", ")}`);
    } else {
      out.push(`  by kind: ${kinds.map(([name, k]) => `${name} ${n(k.detected)} of ${n(k.labelled)} found (recall ${percent(k.recall)})`).join(", ")}`);
    }
    const delays: [string, Summary][] = [["detection delay", a.detection_delay_ms]];
    for (const [name, k] of kinds) {
      if (k.detection_delay_ms.count > 0 && (k.labelled < a.labelled || a.alerts_with_kind > 0)) delays.push([`  of ${name}`, k.detection_delay_ms]);
    }
    if (a.detection_delay_ms.count > 0) out.push(...table(delays));
    if (a.early_alerts > 0) out.push(`  ${n(a.early_alerts)} alerts came before their anomaly began: counted as found, left out of the delays`);
    if (a.false_positive_list.length > 0) {
      out.push(`  false alerts${a.false_positives > a.false_positive_list.length ? ` (first ${n(a.false_positive_list.length)} of ${n(a.false_positives)})` : ""}:`);
      for (const f of a.false_positive_list) {
        const when = f.alert_ts_ms === null ? "" : ` at ts_ms ${f.alert_ts_ms}`;
        out.push(`    ${f.txn_id}  ${f.alert_kind ?? "alert"}${when}${f.in_stream ? "" : "  [not in the stream]"}`);
      }
    }
    if (a.missed.length > 0) {
      out.push(`  missed${a.false_negatives > a.missed.length ? ` (first ${n(a.missed.length)} of ${n(a.false_negatives)})` : ""}:`);
      for (const m of a.missed) out.push(`    ${m.txn_id}  ${m.kind}${m.anomaly_began_ms === null ? "" : ` since ts_ms ${m.anomaly_began_ms}`}`);
    }
    if (a.invalid_lines > 0) out.push(`  invalid alert lines:`, ...invalidLines(a.invalid_examples, a.invalid_lines));
  }

  if (report.warnings.length > 0) {
    out.push("");
    out.push("Warnings:");
    for (const warning of report.warnings) out.push(`  ${warning}`);
  }

  if (report.delivery_faults !== undefined) out.push("", ...deliveryFaultLines(report.delivery_faults));

  out.push("");
  const v = report.violations;
  out.push(`Stream checks: ${VIOLATION_KINDS.map((kind) => `${VIOLATION_TITLES[kind]} ${n(v[kind].count)}`).join(", ")}`);
  for (const kind of VIOLATION_KINDS) {
    const { count, examples } = v[kind];
    if (count === 0) continue;
    out.push(`  ${VIOLATION_TITLES[kind]}${count > examples.length ? ` (first ${examples.length} of ${n(count)})` : ""}:`);
    for (const example of examples) out.push(`    ${where(example)}  ${example.txn_id}: ${example.detail}`);
  }
  if (report.invalid_lines > 0) {
    out.push("");
    out.push(`Invalid lines: ${n(report.invalid_lines)}`);
    out.push(...invalidLines(report.invalid_examples, report.invalid_lines));
  }
  return `${out.join("\n")}\n`;
}

/** Delivery faults injected (the truth file) against what the stream checks found. */
function deliveryFaultLines(d: DeliveryFaultsReport): string[] {
  const row = (kind: string, f: FaultFinding) =>
    `  ${kind.padEnd(9)} ${n(f.injected).padStart(9)} injected, ${f.found === null ? "no stream check sees it" : `${n(f.found)} found (${f.checks.join(" + ")})`}`;
  const lines = ["Delivery faults (truth file: records injected; stream checks: what they found):"];
  // The checks that see a dropped record see a corrupted one too (both are missing as events): the
  // drop row's findings are compared with the records lost either way, said so on the row.
  const drop = d.drop.found === null || d.corrupt.injected === 0 ? row("drop", d.drop) : row("drop", d.drop).replace(" injected, ", ` injected (with corrupt's, ${n(d.records_lost)} records lost), `);
  lines.push(drop, row("duplicate", d.duplicate), row("delay", d.delay), row("skew", d.skew), row("corrupt", d.corrupt));
  if (d.ends_lost > 0) lines.push(`  ${n(d.ends_lost)} transactions ended though their ending record was dropped or corrupted: not counted as never closed`);
  return lines;
}

/**
 * What was injected, by kind; nothing when the outliers line above says it all (a complete run from
 * flags: no other kind, and every labelled transaction ended and was judged).
 */
function groundTruthLines(g: GroundTruthReport, judgedInjected: number): string[] {
  const file = g.file;
  const onlyJudgedOutliers = g.outlier.transactions === judgedInjected && g.stuck.transactions === 0 && g.step_failure.transactions === 0;
  if (file === null && onlyJudgedOutliers && g.unlabelled_waits === 0) return [];
  const read = file === null ? "" : `, ${n(file.records)} records, ${n(file.invalid_lines)} invalid lines`;
  const lines = [
    `Ground truth (${g.source}${read}): ${n(g.outlier.transactions)} transactions with injected outliers (${n(g.outlier.gaps)} waits),` +
      ` ${n(g.stuck.transactions)} stuck (${n(g.stuck.silent)} silent to the end, ${n(g.stuck.ended)} ended all the same),` +
      ` ${n(g.step_failure.transactions)} with step failures (${n(g.step_failure.failures)} failures, ${n(g.step_failure.final)} final)`,
  ];
  if (g.outlier.transactions > judgedInjected) {
    lines.push(`  ${n(g.outlier.transactions - judgedInjected)} of the transactions with outliers were still open at the end: not judged above`);
  }
  const missing = g.not_in_stream;
  if (missing !== null && missing.outlier + missing.stuck + missing.step_failure > 0) {
    lines.push(
      `  labelled but not in the stream: ${n(missing.outlier)} with outliers, ${n(missing.stuck)} stuck, ${n(missing.step_failure)} with step failures`,
    );
  }
  if (file !== null) lines.push(...invalidLines(file.invalid_examples, file.invalid_lines));
  if (file === null && g.unlabelled_waits > 0) {
    lines.push(
      `  ${n(g.unlabelled_waits)} inter_step_wait events carry no outlier_injected label: for a stream made with wfsim run --truth FILE, give analyze --truth FILE`,
    );
  }
  return lines;
}

/** Said in the report and on stderr: an empty or thin stream is then no clean one. */
export function deletedBeforeRead(k: KafkaInputReport): string {
  return (
    `${n(k.deleted_before_read)} records had been deleted before this read began (partitions start past offset 0: retention.ms, ` +
    `or deleted on purpose); the figures cover what was left`
  );
}

function kafkaLines(k: KafkaInputReport): string[] {
  const topic = (t: KafkaTopicReport) => `${t.name} (${n(t.partitions)} partition${t.partitions === 1 ? "" : "s"}, ${n(t.records)} records)`;
  const merge = k.merge === "per-partition" ? "partition p of every topic merged by record timestamp" : "all partitions merged by record timestamp";
  const topics = Object.values(k.topics).map(topic);
  const listed = topics.length <= 1 ? topics.join("") : `${topics.slice(0, -1).join(", ")} and ${topics.at(-1)}`;
  const lines = [`  from Kafka at ${k.bootstrap}: ${listed}; ${merge}`];
  if (k.deleted_before_read > 0) lines.push(`  ${deletedBeforeRead(k)}`);
  if (k.skipped_by_retention > 0) lines.push(`  ${n(k.skipped_by_retention)} records were deleted by retention before they could be read`);
  const f = k.follow;
  if (f !== undefined) {
    const group = f.group === null ? "alone (every partition)" : `in group ${f.group}, partitions ${f.partitions.join(", ") || "none"} at the end, ${n(f.assignments)} assignments`;
    lines.push(`  followed ${group}; ${n(f.alerts)} stuck-transaction alerts (open > ${ms(f.stuck_ms)} ms, ${f.stuck_clock} time)`);
    if (f.handed_over > 0 || f.adopted > 0) {
      lines.push(`  ${n(f.handed_over)} open transactions handed over to other followers, ${n(f.adopted)} taken over (${n(f.rebuilt_records)} records re-read to rebuild them)`);
    }
  }
  return lines;
}

function invalidLines(examples: readonly InvalidLine[], count: number): string[] {
  if (examples.length === 0) return [];
  const lines = examples.map((example) => `    ${where(example)}  ${example.reason}`);
  if (count > examples.length) lines.push(`    … and ${n(count - examples.length)} more`);
  return lines;
}

/** The JSON report: every key of AnalysisReport except the chart data. */
export function renderJson(report: AnalysisReport): string {
  const { charts: _charts, ...data } = report;
  return `${JSON.stringify(data, null, 2)}\n`;
}
