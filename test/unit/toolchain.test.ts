import { expect, it } from "vitest";

it("runs on the Node.js 24 the project installs, not the machine's own", () => {
  console.log(`node ${process.version}`);
  expect(process.version).toMatch(/^v24\./);
});
