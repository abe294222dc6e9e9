// `npm run demo` runs a whole migration on the local default once the workflow
// exists; until then it says so and fails, so nobody mistakes it for a success.
console.error("kubeferry demo: not yet available (the migration workflow has not landed yet).");
process.exit(1);
