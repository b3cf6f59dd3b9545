import { startRegistry } from "/work/wt/registry/test/registry/server.ts";
const t = Date.now();
const r = await startRegistry();
console.log("up", r.url, Date.now() - t);
await r.stop();
console.log("stopped");
