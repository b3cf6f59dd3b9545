import { fileURLToPath } from "node:url";

/** The Node.js running the bench: the project's own (npm puts it first on the PATH of npm scripts). */
export const NODE = process.execPath;
/** wfsim's built CLI, run the way a user runs it. */
export const WFSIM = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
/** The seed's reference script, run side by side with wfsim. */
export const REFERENCE = fileURLToPath(new URL("../test/compat/simulate_workflows.py", import.meta.url));
