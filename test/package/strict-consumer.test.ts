/**
 * The package as a consumer gets it: `npm pack`, installed in a fresh project whose tsconfig is strict,
 * nodenext and without skipLibCheck, compiled with the repo's tsc and run. Needs a built dist
 * (`npm run build`) and npm with the registry or its cache (the dependencies are installed for real).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const NODE_TYPES = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies["@types/node"]!;

const SNIPPET = `import { simulate, parseScenario, parseTruthLine, type WfEvent, type DeliveryReport, type TopicInfo } from "wfsim";

const scenario = parseScenario("workflows: [{ name: w, steps: [a, b] }]", "inline.yaml");
const types = new Map<WfEvent["type"], number>();
for await (const event of simulate({ samples: 3, clock: "virtual", scenario })) types.set(event.type, (types.get(event.type) ?? 0) + 1);
const truth = await parseTruthLine("");
const topics: TopicInfo[] = [];
const report: DeliveryReport | undefined = undefined;
console.log(JSON.stringify({ opened: types.get("transaction_open"), truth: truth ?? null, topics: topics.length, report: report ?? null }));
`;

function npm(args: readonly string[], cwd: string): string {
  return execFileSync("npm", [...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("the packed package in a strict consumer project", () => {
  it("compiles without skipLibCheck (a snippet and every TypeScript block of the docs), runs, and its source maps point at files it ships", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "wfsim-consumer-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const tarball = npm(["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], ROOT).trim().split("\n").at(-1)!;
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2023", types: ["node"], noEmit: true, skipLibCheck: false },
        include: ["*.ts"],
      }),
    );
    writeFileSync(join(dir, "index.ts"), SNIPPET);
    // Every TypeScript block of the README and docs/, compiled as a consumer would paste them (not
    // run: some need Kafka or files of the user's).
    const docFiles = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join("docs", f))];
    const docBlocks = docFiles.flatMap((file) => [...readFileSync(join(ROOT, file), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!));
    assert.ok(docBlocks.length >= 6, `the docs have their snippets: ${docBlocks.length}`);
    docBlocks.forEach((block, i) => writeFileSync(join(dir, `doc-${i}.ts`), `${block}\nexport {};\n`));
    npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(dir, tarball), `@types/node@${NODE_TYPES}`], dir);

    const compiled = spawnSync(process.execPath, [TSC, "-p", dir], { encoding: "utf8" });
    assert.equal(compiled.status, 0, `tsc in the consumer:\n${compiled.stdout}${compiled.stderr}`);

    const ran = spawnSync(process.execPath, [join(dir, "index.ts")], { cwd: dir, encoding: "utf8" });
    assert.equal(ran.status, 0, ran.stderr);
    assert.deepEqual(JSON.parse(ran.stdout), { opened: 3, truth: null, topics: 0, report: null });

    // The bin works from the consumer's folder, not only from wfsim's own.
    const bin = spawnSync(join(dir, "node_modules", ".bin", "wfsim"), ["--version"], { cwd: dir, encoding: "utf8" });
    assert.equal(bin.status, 0, bin.stderr);
    assert.match(bin.stdout, /^\d+\.\d+\.\d+\n$/);

    const installed = join(dir, "node_modules", "wfsim");
    const maps = readdirSync(join(installed, "dist"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js.map"));
    assert.ok(maps.length > 50, `source maps shipped: ${maps.length}`);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(installed, "dist", map), "utf8")) as { sources: string[] };
      for (const source of sources) {
        assert.ok(existsSync(resolve(dirname(join(installed, "dist", map)), source)), `${map} points at ${source}, which is shipped`);
      }
    }
  });
});
