import type { Issue, PathSegment } from "./check.ts";

/** A problem found while resolving a scenario, with the path of the value at fault. */
export class ScenarioIssue extends Error implements Issue {
  readonly path: readonly PathSegment[];
  atKey?: boolean;

  constructor(path: readonly PathSegment[], message: string) {
    super(message);
    this.path = path;
  }

  /** The problem is the key at `path` (a name), not its value: messages point at the key. */
  aboutKey(): this {
    this.atKey = true;
    return this;
  }
}
