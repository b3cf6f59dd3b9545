/**
 * deploy/: the container image definition and the Kubernetes manifests. No cluster or image build
 * runs here (no registry to pull a base image from); what is checked: the manifests parse and hold
 * what scale-out needs, and every command line they hold passes wfsim's own flag validation
 * (`--dry-run`), once per completion index.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { runCli } from "../helpers/cli.ts";

const DEPLOY = new URL("../../deploy/", import.meta.url);

type Manifest = Record<string, any>;

async function manifests(name: string): Promise<Manifest[]> {
  const docs = parseAllDocuments(await readFile(new URL(`k8s/${name}`, DEPLOY), "utf8"));
  for (const doc of docs) assert.deepEqual(doc.errors, [], `${name}: ${doc.errors.join("; ")}`);
  return docs.map((doc) => doc.toJS() as Manifest);
}

/** The args of the pod's only container, with $(VAR) expanded as Kubernetes does from `env`. */
function args(pod: Manifest, values: Record<string, string>): string[] {
  const [container] = pod.spec.containers as Manifest[];
  const declared = new Set((container!.env ?? []).map((e: Manifest) => e.name as string));
  return (container!.args as string[]).map((arg) =>
    arg.replace(/\$\((\w+)\)/g, (_, name: string) => {
      assert.ok(declared.has(name), `$(${name}) is expanded only for a variable declared in env`);
      return values[name]!;
    }),
  );
}

describe("deploy/k8s", () => {
  it("the load Job runs one instance per completion index, each command line valid for wfsim run", async () => {
    const [job] = await manifests("load-job.yaml");
    assert.equal(job!.kind, "Job");
    assert.equal(job!.spec.completionMode, "Indexed");
    const pod = job!.spec.template;
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    const env = pod.spec.containers[0].env.find((e: Manifest) => e.name === "JOB_COMPLETION_INDEX");
    assert.equal(env.valueFrom.fieldRef.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    const raw = pod.spec.containers[0].args as string[];
    const count = Number(/\/(\d+)$/.exec(raw[raw.indexOf("--instance") + 1]!)![1]);
    assert.equal(job!.spec.completions, count, "one pod per instance");
    assert.equal(job!.spec.parallelism, count, "all instances at once");
    const lines = await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const result = await runCli([...args(pod, { JOB_COMPLETION_INDEX: String(index) }), "--dry-run"]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, "");
        return result.stderr;
      }),
    );
    lines.forEach((line, index) => assert.match(line, new RegExp(`^wfsim: --dry-run: the flags are valid; would run instance ${index}/${count} of the seed workload with seed 42: .* to Kafka at kafka:9092`)));
  });

  it("the followers' command line is valid for wfsim analyze --follow", async () => {
    const [deployment] = await manifests("followers.yaml");
    assert.equal(deployment!.kind, "Deployment");
    const pod = deployment!.spec.template;
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    const result = await runCli([...args(pod, {}), "--dry-run"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^wfsim: --dry-run: the flags are valid; would follow Kafka at kafka:9092 in group wfsim-followers/);
  });

  it("--dry-run still refuses what a real run would, in one line", async () => {
    const result = await runCli(["run", "--instance", "4/4", "--kafka-bootstrap", "kafka:9092", "--dry-run"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^wfsim: --instance must be I\/N/);
  });
});

describe("deploy/Containerfile", () => {
  it("installs the npm package and runs wfsim itself as a non-root PID 1 (exec form), so signals reach it", async () => {
    const text = await readFile(new URL("Containerfile", DEPLOY), "utf8");
    const lines = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    assert.ok(lines.some((line) => /npm pack/.test(line)), "built from the package npm pack makes");
    assert.ok(lines.some((line) => /^RUN npm install --global .*wfsim\.tgz/.test(line)));
    const last = (instruction: string) => lines.filter((line) => line.startsWith(`${instruction} `)).pop();
    assert.equal(last("USER"), "USER node");
    assert.equal(last("ENTRYPOINT"), 'ENTRYPOINT ["wfsim"]', "exec form: no shell in between");
  });
});
