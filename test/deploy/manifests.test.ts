/**
 * The Kubernetes examples in deploy/k8s parse, and the command lines they hold pass wfsim's own flag
 * validation. Kafka is not needed: each command line is run against an address where nothing listens
 * (given last, it overrides the manifest's), so it gets through every check and fails at connecting.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { CLI, runCli } from "../helpers/cli.ts";

interface Container {
  readonly command?: string[];
  readonly args?: string[];
}

function containersOf(file: string): { kind: string; spec: Record<string, unknown>; containers: Container[] }[] {
  const text = readFileSync(fileURLToPath(new URL(`../../deploy/k8s/${file}`, import.meta.url)), "utf8");
  return parseAllDocuments(text).map((doc) => {
    assert.deepEqual(doc.errors, [], `${file} parses`);
    const manifest = doc.toJS() as { kind: string; spec: Record<string, unknown> & { template: { spec: { containers: Container[] } } } };
    return { kind: manifest.kind, spec: manifest.spec, containers: manifest.spec.template.spec.containers };
  });
}

describe("deploy/k8s", () => {
  it("the Indexed Job: every completion index gives a valid wfsim run, each its own instance", () => {
    const [job] = containersOf("wfsim-indexed-job.yaml");
    assert.equal(job!.kind, "Job");
    assert.equal(job!.spec.completionMode, "Indexed");
    const completions = job!.spec.completions as number;
    const [container] = job!.containers;
    assert.deepEqual(container!.command, ["sh", "-c"]);
    const script = container!.args![0]!;
    assert.match(script, /^exec wfsim run /, "exec: the shell hands over to wfsim, which gets the signals");
    for (let index = 0; index < completions; index++) {
      // The pod's shell, with the CLI for wfsim, pointed at an address where nothing listens.
      const wfsim = `wfsim() { ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@" --kafka-bootstrap 127.0.0.1:1 --kafka-timeout 500; }`;
      const result = spawnSync("sh", ["-c", `${wfsim}\n${script.replace(/^exec /, "")}`], {
        env: { ...process.env, JOB_COMPLETION_INDEX: String(index) },
        encoding: "utf8",
      });
      assert.equal(result.status, 2, `index ${index}: ${result.stderr}`);
      assert.match(result.stderr, /^wfsim: cannot connect to Kafka at 127\.0\.0\.1:1/, `index ${index} got as far as connecting`);
    }
    const bad = spawnSync("sh", ["-c", `${process.execPath} ${CLI} run --instance "$JOB_COMPLETION_INDEX/${completions}" --seed 42 --kafka-bootstrap 127.0.0.1:1`], {
      env: { ...process.env, JOB_COMPLETION_INDEX: String(completions) },
      encoding: "utf8",
    });
    assert.equal(bad.status, 2, "an index past the completions is refused: the check can fail");
    assert.match(bad.stderr, /--instance/);
  });

  it("the followers: analyze --follow --group passes validation and goes on to connect", async () => {
    const [deployment] = containersOf("wfsim-followers.yaml");
    assert.equal(deployment!.kind, "Deployment");
    const args = [...deployment!.containers[0]!.args!];
    assert.deepEqual(args.slice(0, 2), ["analyze", "--follow"]);
    const at = args.indexOf("--kafka-bootstrap");
    args[at + 1] = "127.0.0.1:1"; // nothing listens there: the first thing after validation fails
    const result = await runCli([...args, "--kafka-timeout", "500"]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /Kafka at 127\.0\.0\.1:1/, "it got as far as connecting");
  });
});
