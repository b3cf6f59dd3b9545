/** wfsim's version, carried in every transaction_open event as meta.sim_version. Kept equal to package.json by a test. */
export const VERSION = "0.1.0";
