/**
 * From a file that fits the schema to a Scenario the engine can run: units to milliseconds, defaults,
 * and the checks a schema cannot express (min not above max, unique names, a step that exists).
 * Problems are thrown as a ScenarioIssue that carries the path of the value at fault.
 */
import { MAX_DELAY_MS } from "../sim-options.ts";
import { instant, timeZone } from "../values.ts";
import { formatMs, parseDuration } from "../units.ts";
import { describeFound, didYouMean, type PathSegment } from "./check.ts";
import { ScenarioIssue } from "./issue.ts";
import { resolveOutput } from "../shape/resolve.ts";
import type {
  DeliverySpec,
  DistributionSpec,
  FaultSpec,
  FailureSpec,
  LoadSpec,
  OutlierSpec,
  Scenario,
  StageSpec,
  StepSpec,
  StuckSpec,
  WorkflowSpec,
} from "./model.ts";
import type {
  DeliveryInput,
  DistributionInput,
  DurationInput,
  FailureInput,
  LoadInput,
  OutlierInput,
  ScenarioInput,
  StepInput,
  StuckInput,
  WorkflowInput,
} from "./schema.ts";

export { ScenarioIssue };

type Path = readonly PathSegment[];

/** z such that Φ(z) = 0.99: turns a lognormal's p99 into its sigma. */
const Z_99 = 2.3263478740408408;
const DEFAULT_BACKOFF: DistributionSpec = { kind: "constant", value: 1000 };
const ZERO: DistributionSpec = { kind: "constant", value: 0 };

function duration(raw: DurationInput, path: Path): number {
  const ms = parseDuration(raw);
  if (ms === undefined) throw new ScenarioIssue(path, `expected a duration, got ${describeFound(raw)}`);
  return ms;
}

/** A duration that must come to a whole number of ms a delay can hold (constants, uniform bounds, lists). */
function wholeMs(raw: DurationInput, path: Path): number {
  const ms = duration(raw, path);
  if (!Number.isInteger(ms)) throw new ScenarioIssue(path, `expected a whole number of milliseconds, got ${describeFound(raw)}`);
  if (ms > MAX_DELAY_MS) throw new ScenarioIssue(path, `expected at most ${MAX_DELAY_MS} ms (about 49 days), got ${describeFound(raw)}`);
  return ms;
}

function positive(raw: DurationInput, path: Path): number {
  const ms = duration(raw, path);
  if (ms <= 0) throw new ScenarioIssue(path, `expected a duration greater than 0, got ${describeFound(raw)}`);
  return ms;
}

export function resolveDistribution(raw: DistributionInput, path: Path): DistributionSpec {
  if (typeof raw === "number" || typeof raw === "string") return { kind: "constant", value: wholeMs(raw, path) };
  switch (raw.dist) {
    case "constant":
      return { kind: "constant", value: wholeMs(raw.value, [...path, "value"]) };
    case "uniform": {
      const min = wholeMs(raw.min, [...path, "min"]);
      const max = wholeMs(raw.max, [...path, "max"]);
      if (max < min) throw new ScenarioIssue([...path, "max"], `expected at least min (${formatMs(min)}), got ${describeFound(raw.max)}`);
      return { kind: "uniform", min, max };
    }
    case "normal":
      return { kind: "normal", mean: duration(raw.mean, [...path, "mean"]), sd: duration(raw.sd, [...path, "sd"]) };
    case "lognormal": {
      const median = positive(raw.median, [...path, "median"]);
      if (raw.sigma !== undefined && raw.p99 !== undefined) {
        throw new ScenarioIssue([...path, "p99"], "expected sigma or p99, not both");
      }
      if (raw.sigma !== undefined) return { kind: "lognormal", mu: Math.log(median), sigma: raw.sigma };
      if (raw.p99 === undefined) throw new ScenarioIssue(path, "missing sigma or p99 (the spread of a lognormal)");
      const p99 = duration(raw.p99, [...path, "p99"]);
      if (p99 <= median) throw new ScenarioIssue([...path, "p99"], `expected more than the median (${formatMs(median)}), got ${describeFound(raw.p99)}`);
      return { kind: "lognormal", mu: Math.log(median), sigma: Math.log(p99 / median) / Z_99 };
    }
    case "exponential":
      return { kind: "exponential", mean: duration(raw.mean, [...path, "mean"]) };
    case "empirical":
      return { kind: "empirical", values: raw.values.map((value, i) => wholeMs(value, [...path, "values", i])) };
  }
}

function resolveFailure(raw: FailureInput, path: Path): FailureSpec {
  return {
    prob: raw.prob,
    reasons: raw.reasons ?? ["error"],
    retries: raw.retries ?? 0,
    backoff: raw.backoff === undefined ? DEFAULT_BACKOFF : resolveDistribution(raw.backoff, [...path, "backoff"]),
    backoffFactor: raw.backoff_factor ?? 2,
    maxBackoff: raw.max_backoff === undefined ? Infinity : duration(raw.max_backoff, [...path, "max_backoff"]),
  };
}

function resolveOutlier(raw: OutlierInput, path: Path): OutlierSpec {
  return { prob: raw.prob, extra: resolveDistribution(raw.extra, [...path, "extra"]), per: raw.per ?? "gap" };
}

function resolveStuck(raw: StuckInput, steps: readonly StepSpec[], path: Path): StuckSpec {
  if (raw.at === undefined) return { prob: raw.prob, at: undefined };
  const names = steps.map((step) => step.name);
  const at = names.indexOf(raw.at);
  if (at < 0) {
    throw new ScenarioIssue([...path, "at"], `expected one of the workflow's steps (${names.join(", ")}), got ${describeFound(raw.at)}${didYouMean(raw.at, names)}`);
  }
  return { prob: raw.prob, at };
}

function resolveStep(raw: StepInput, workflow: WorkflowInput, defaults: Omit<StepSpec, "name">, path: Path): StepSpec {
  if (typeof raw === "string") return { name: raw, ...defaults };
  return {
    name: raw.name,
    pre: raw.pre === undefined ? defaults.pre : resolveDistribution(raw.pre, [...path, "pre"]),
    work: raw.work === undefined ? defaults.work : resolveDistribution(raw.work, [...path, "work"]),
    inter: raw.inter === undefined ? defaults.inter : resolveDistribution(raw.inter, [...path, "inter"]),
    failure: raw.failure === undefined ? defaults.failure : resolveFailure(raw.failure, [...path, "failure"]),
  };
}

function resolveWorkflow(raw: WorkflowInput, path: Path): WorkflowSpec {
  const defaults: Omit<StepSpec, "name"> = {
    pre: raw.pre === undefined ? ZERO : resolveDistribution(raw.pre, [...path, "pre"]),
    work: raw.work === undefined ? ZERO : resolveDistribution(raw.work, [...path, "work"]),
    inter: raw.inter === undefined ? ZERO : resolveDistribution(raw.inter, [...path, "inter"]),
    failure: raw.failure === undefined ? undefined : resolveFailure(raw.failure, [...path, "failure"]),
  };
  const steps: StepSpec[] = [];
  raw.steps.forEach((step, i) => {
    const resolved = resolveStep(step, raw, defaults, [...path, "steps", i]);
    const earlier = steps.findIndex((s) => s.name === resolved.name);
    if (earlier >= 0) {
      const at: Path = typeof step === "string" ? [...path, "steps", i] : [...path, "steps", i, "name"];
      throw new ScenarioIssue(at, `expected a step name not used by steps[${earlier}], got ${JSON.stringify(resolved.name)}`);
    }
    steps.push(resolved);
  });
  return {
    name: raw.name,
    weight: raw.weight ?? 1,
    steps,
    outlier: raw.outlier === undefined ? undefined : resolveOutlier(raw.outlier, [...path, "outlier"]),
    stuck: raw.stuck === undefined ? undefined : resolveStuck(raw.stuck, steps, [...path, "stuck"]),
  };
}

function resolveLoad(raw: LoadInput | undefined, path: Path): LoadSpec {
  if (raw === undefined || raw.model === "closed") return { model: "closed", concurrency: raw?.concurrency };
  const stages: StageSpec[] = [];
  let rate = raw.rate;
  if (rate === undefined) {
    if (raw.stages === undefined) throw new ScenarioIssue(path, "missing rate (arrivals per second) or stages");
    rate = 0;
  }
  let current = rate;
  let peak = rate;
  (raw.stages ?? []).forEach((stage, i) => {
    const at = [...path, "stages", i];
    const keys = Object.keys(stage).sort().join(",");
    if (keys === "hold") {
      stages.push({ toRate: current, durationMs: positive(stage.hold!, [...at, "hold"]) });
    } else if (keys === "over,to") {
      current = stage.to!;
      peak = Math.max(peak, current);
      stages.push({ toRate: current, durationMs: positive(stage.over!, [...at, "over"]) });
    } else {
      throw new ScenarioIssue(at, `expected { to: RATE, over: DURATION } or { hold: DURATION }, got { ${Object.keys(stage).join(", ")} }`);
    }
  });
  if (peak <= 0) {
    throw new ScenarioIssue(raw.stages === undefined ? [...path, "rate"] : path, "expected an arrival rate above 0 at some point, got 0 throughout");
  }
  return { model: "open", arrivals: raw.arrivals ?? "poisson", rate, stages, maxInFlight: raw.max_in_flight };
}

/** Resolves a file that already fits the schema; throws a ScenarioIssue for what the schema cannot check. */
export function resolveScenario(raw: ScenarioInput, source: string): Scenario {
  const workflows: WorkflowSpec[] = [];
  raw.workflows.forEach((workflow, i) => {
    const earlier = workflows.findIndex((w) => w.name === workflow.name);
    if (earlier >= 0) {
      throw new ScenarioIssue(["workflows", i, "name"], `expected a workflow name not used by workflows[${earlier}], got ${JSON.stringify(workflow.name)}`);
    }
    workflows.push(resolveWorkflow(workflow, ["workflows", i]));
  });
  if (raw.timezone !== undefined && timeZone.parse(raw.timezone) === undefined) {
    throw new ScenarioIssue(["timezone"], `expected ${timeZone.expected}, got ${describeFound(raw.timezone)}`);
  }
  let startTime: number | undefined;
  if (raw.start_time !== undefined) {
    startTime = instant.parse(raw.start_time);
    if (startTime === undefined) throw new ScenarioIssue(["start_time"], `expected ${instant.expected}, got ${describeFound(raw.start_time)}`);
  }
  const load = resolveLoad(raw.load, ["load"]);
  const samples = raw.load?.samples;
  const output = raw.output === undefined ? undefined : resolveOutput(raw.output, { workflows });
  return {
    source,
    name: raw.name,
    description: raw.description,
    seed: raw.seed,
    timezone: raw.timezone,
    startTime,
    load,
    samples: samples === "unlimited" ? Infinity : samples,
    durationMs: raw.load?.duration === undefined ? undefined : Math.round(positive(raw.load.duration, ["load", "duration"])),
    workflows,
    output,
    delivery: raw.delivery === undefined ? undefined : resolveDelivery(raw.delivery, ["delivery"], workflows.map((w) => w.name), source, output?.records.map((r) => r.name)),
  };
}

/**
 * A delivery section: distributions resolved, workflow names checked against `workflows` (empty: a
 * flags-only run, whose events name no workflow), record type names against `recordTypes` (the
 * output section's; undefined: there is none), and the per-record faults' probabilities adding up
 * to at most 1, since a record gets one of drop, duplicate, delay and corrupt at most.
 */
export function resolveDelivery(raw: DeliveryInput, path: Path, workflows: readonly string[], source: string, recordTypes?: readonly string[]): DeliverySpec {
  const filters = (fault: { workflows?: string[] | undefined; types?: string[] | undefined; records?: string[] | undefined }, at: Path) => {
    fault.records?.forEach((name, i) => {
      if (recordTypes === undefined) {
        const without = workflows.length === 0 ? "a run without a scenario has none" : "this scenario has none";
        throw new ScenarioIssue([...at, "records"], `expected no records filter: records are the record types of a scenario's output section, and ${without}`);
      }
      if (!recordTypes.includes(name)) {
        throw new ScenarioIssue([...at, "records", i], `expected one of the output section's record types (${recordTypes.join(", ")}), got ${JSON.stringify(name)}${didYouMean(name, recordTypes)}`);
      }
    });
    fault.workflows?.forEach((name, i) => {
      if (workflows.length === 0) {
        throw new ScenarioIssue([...at, "workflows"], "expected no workflows filter: a run without a scenario has one unnamed workflow, got a list");
      }
      if (!workflows.includes(name)) {
        throw new ScenarioIssue([...at, "workflows", i], `expected one of the scenario's workflows (${workflows.join(", ")}), got ${JSON.stringify(name)}${didYouMean(name, workflows)}`);
      }
    });
    return fault.records === undefined ? { workflows: fault.workflows, types: fault.types } : { workflows: fault.workflows, types: fault.types, records: fault.records };
  };
  const faults: FaultSpec[] = [];
  if (raw.drop !== undefined) faults.push({ kind: "drop", prob: raw.drop.prob, ...filters(raw.drop, [...path, "drop"]) });
  if (raw.duplicate !== undefined) {
    const at = [...path, "duplicate"];
    faults.push({ kind: "duplicate", prob: raw.duplicate.prob, after: raw.duplicate.after === undefined ? ZERO : resolveDistribution(raw.duplicate.after, [...at, "after"]), ...filters(raw.duplicate, at) });
  }
  if (raw.delay !== undefined) {
    const at = [...path, "delay"];
    faults.push({ kind: "delay", prob: raw.delay.prob, by: resolveDistribution(raw.delay.by, [...at, "by"]), ...filters(raw.delay, at) });
  }
  if (raw.skew !== undefined) {
    const at = [...path, "skew"];
    faults.push({ kind: "skew", prob: raw.skew.prob, offset: resolveDistribution(raw.skew.offset, [...at, "offset"]), direction: raw.skew.direction ?? "either", ...filters({ workflows: raw.skew.workflows }, at) });
  }
  if (raw.corrupt !== undefined) faults.push({ kind: "corrupt", prob: raw.corrupt.prob, as: raw.corrupt.as ?? "either", ...filters(raw.corrupt, [...path, "corrupt"]) });
  const perRecord = faults.filter((fault) => fault.kind !== "skew");
  const total = perRecord.reduce((sum, fault) => sum + fault.prob, 0);
  if (total > 1 + 1e-12) {
    const last = perRecord.at(-1)!;
    throw new ScenarioIssue(
      [...path, last.kind, "prob"],
      `expected the probabilities of ${perRecord.map((f) => f.kind).join(", ")} to add up to at most 1 (a record gets one of them at most), got ${Number(total.toFixed(12))}`,
    );
  }
  return { source, faults };
}
